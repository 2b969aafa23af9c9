// Per-client query budgets (DESIGN section 6): a client is its bearer key, else its address; every image
// counts one query. Budgets make query attacks (score- and decision-based) cost real time.
import { sha256Hex } from '../../hash/sha256.ts';
import { HttpError, unavailable } from '../errors.ts';
import type { Budgets } from '../options.ts';
import type { BudgetStore } from './store.ts';

export { MemoryBudgetStore, type BudgetResult, type BudgetStore } from './store.ts';

/**
 * The client address a budget counts against. Only when the peer is one of `trustedProxies` is
 * X-Forwarded-For believed: then the rightmost hop that is not itself a trusted proxy (the address the first
 * of our proxies saw) counts, since hops further left are whatever the client chose to write. A hop that is
 * not an IP address literal is refused in favour of the peer.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trustedProxies?: readonly string[]): string | undefined {
  if (!peer || !forwardedFor || !trustedProxies?.includes(peer)) return peer;
  const hops = forwardedFor.split(',').map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    if (trustedProxies.includes(hops[i])) continue;
    return /^[0-9A-Fa-f.:]{2,45}$/.test(hops[i]) ? hops[i] : peer;
  }
  return peer;
}

/** The budget identity of a request: 'key:<bearer>' for an accepted bearer key, else 'addr:<address>'. */
export function clientIdentity(authorization: string | undefined, address: string | undefined, keys?: readonly string[]): string {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (bearer && (!keys || keys.includes(bearer))) return `key:${bearer}`;
  return `addr:${address ?? 'unknown'}`;
}

export class QueryBudget {
  constructor(private readonly config: Omit<Budgets, 'store'>, readonly store: BudgetStore) {}

  /**
   * Charges n queries to `identity`, or throws 429 with Retry-After (seconds to the window's end), or 503
   * when the store cannot answer (fail closed: an unchecked budget is no budget). Returns the refund.
   */
  async charge(identity: string, n: number): Promise<() => Promise<void>> {
    // Stored keys are hashes: API keys never sit in Redis in clear, and key length is bounded.
    const key = (await sha256Hex(identity)).slice(0, 32);
    let r;
    try {
      r = await this.store.take(key, n, this.config.limit, this.config.windowMs);
    } catch {
      throw unavailable('query budget store unavailable');
    }
    if (!r.allowed) {
      const message = n > this.config.limit
        ? `request of ${n} images exceeds the query budget of ${this.config.limit} per window`
        : `query budget exhausted: ${r.used} of ${this.config.limit} images used in this window`;
      throw new HttpError(429, message, { 'Retry-After': String(Math.max(1, Math.ceil(r.resetMs / 1000))) });
    }
    return () => this.store.refund(key, n).catch(() => {});
  }
}
