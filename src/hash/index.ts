// Public door of src/hash: the xxHash32 word hash and the counter RNG built on it. Imports nothing else.
export { xxh32 } from './xxh32.ts';
export { randomU32, uniform, normal, randomInt, permutation, deriveStream } from './rng.ts';
