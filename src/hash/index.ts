// Public door of src/hash: the xxHash32 word hash, HashedNets indexing and the counter RNG. Imports nothing else.
export { xxh32 } from './xxh32.ts';
export { randomU32, uniform, normal, randomInt, permutation, deriveStream } from './rng.ts';
export { hashBucket, hashSign, hashTable, bucketsFor, SIGN_SEED_XOR, type HashTable } from './hashed-nets.ts';
