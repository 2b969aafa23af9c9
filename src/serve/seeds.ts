// Request seeds for random gradient inhibition: a fresh seed per request from a private server secret and a
// counter, so two requests never share a draw and clients cannot predict or replay one.
import { deriveStream } from '../hash/index.ts';

/** A fresh 128-bit secret from the platform CSPRNG. */
export function randomSecret(): Uint32Array {
  return crypto.getRandomValues(new Uint32Array(4));
}

/**
 * The seed source of one server: call i returns deriveStream(secret[0], i), re-keyed by each further secret
 * word. NOTE: with a one-word secret this is exactly DefendedModel.nextSeed's deriveStream(secret, i); more
 * words make recovering the secret from observed seeds cost far more than the 2^32 of a single word.
 */
export function requestSeeds(secret: Uint32Array): () => number {
  if (secret.length < 1) throw new RangeError('server secret: need at least one u32 word');
  const words = Uint32Array.from(secret);
  let counter = 0;
  return () => {
    const i = counter++;
    let s = deriveStream(words[0], i >>> 0);
    for (let k = 1; k < words.length; k++) s = deriveStream(s ^ words[k], i >>> 0);
    // Counters past 2^32 (billions of requests) mix in their high word instead of repeating seeds.
    return i >= 2 ** 32 ? deriveStream(s, Math.floor(i / 2 ** 32)) : s;
  };
}
