// Per-layer HashedNets seeds for the CLI: derived from --seed (reproducible) or, with --secret-seed, drawn
// from the platform's cryptographic RNG so no one can rebuild the hashing from public information.
import { derivedHashSeeds } from '../nn/index.ts';

export function hashSeeds(seed: number, count: number, secret: boolean): number[] {
  if (!secret) return derivedHashSeeds(seed, count);
  return Array.from(crypto.getRandomValues(new Uint32Array(count)));
}
