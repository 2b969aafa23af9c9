// Issued API keys, held only as SHA-256 digests and matched in constant time. A configured key names a
// budget; every other bearer token is refused (401), so a client cannot mint budgets by inventing tokens.
import { sha256Hex } from '../../hash/index.ts';

const HASHED = /^sha256:([0-9a-fA-F]{64})$/;

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The lines of a key file: one key per line, either the key itself or `sha256:<64 hex digits>` (so the
 * file need not hold keys in clear); blank lines and lines starting with '#' are ignored.
 */
export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

export class ApiKeys {
  private constructor(private readonly digests: readonly Uint8Array[]) {}

  /** Hashes the configured entries (plain keys or `sha256:<hex>`); the plain text is not kept. */
  static async from(entries: readonly string[]): Promise<ApiKeys> {
    const digests = await Promise.all(
      entries.map(async (e) => {
        const m = HASHED.exec(e);
        return hexBytes(m ? m[1].toLowerCase() : await sha256Hex(e));
      }),
    );
    return new ApiKeys(digests);
  }

  get size(): number {
    return this.digests.length;
  }

  /**
   * The id of the key `token` is (the first 16 hex digits of its digest), or null. Every stored digest is
   * compared in full, without an early exit, so timing tells nothing about which bytes matched.
   */
  async match(token: string): Promise<string | null> {
    const hex = await sha256Hex(token);
    const d = hexBytes(hex);
    let found = -1;
    for (let k = 0; k < this.digests.length; k++) {
      const s = this.digests[k];
      let diff = 0;
      for (let i = 0; i < 32; i++) diff |= s[i] ^ d[i];
      // Branch-free select of the first matching index.
      const hit = ((diff - 1) >>> 31) & (found < 0 ? 1 : 0);
      found = hit ? k : found;
    }
    return found < 0 ? null : hex.slice(0, 16);
  }
}
