// Public door of src/hash: xxHash32 of u32 words, SHA-256 (WebCrypto), HashedNets indexing and the counter RNG. Imports nothing.
export { xxh32 } from './xxh32.ts';
export { sha256Hex } from './sha256.ts';
export { randomU32, uniform, normal, randomInt, permutation, deriveStream } from './rng.ts';
export {
  hashBucket,
  hashSign,
  hashTable,
  bucketsFor,
  SIGN_SEED_XOR,
  type HashTable,
} from './hashed-nets.ts';
export {
  fingerprint,
  fingerprintsMatch,
  sharedHashes,
  type FingerprintParams,
} from './query-fingerprint.ts';
