// The independent reference xxHash32 (npm xxhashjs) over the 8 LE bytes of two u32 words: what src/hash is tested against.
import XXH from 'xxhashjs';

export function refXxh32(a: number, b: number, seed: number): number {
  const buf = new Uint8Array(8);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, a >>> 0, true);
  dv.setUint32(4, b >>> 0, true);
  return XXH.h32(buf.buffer, seed >>> 0).toNumber() >>> 0;
}
