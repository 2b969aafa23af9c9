// Per-client query budgets (DESIGN section 6): a client is its bearer key, else its address; every image
// counts one query. Budgets make query attacks (score- and decision-based) cost real time.
import { sha256Hex } from '../../hash/sha256.ts';
import { HttpError, unavailable } from '../errors.ts';
import type { Budgets } from '../options.ts';
import type { BudgetStore } from './store.ts';

export { MemoryBudgetStore, type BudgetResult, type BudgetStore } from './store.ts';

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
