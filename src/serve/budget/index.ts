// Per-client query budgets (docs/design.md §6): a client is an issued API key, else its normalized address
// (IPv6 by /64); every image counts one query. Budgets make query attacks (score- and decision-based) cost
// real time, so nothing a client can invent (a token, an address spelling) may open a fresh budget.
import { sha256Hex } from '../../hash/index.ts';
import { HttpError, unavailable } from '../errors.ts';
import { storeAnswers } from '../store-health.ts';
import type { Budgets } from '../options.ts';
import { budgetSubject, normalizeAddress } from './address.ts';
import type { ApiKeys } from './api-keys.ts';
import type { BudgetStore } from './store.ts';

export {
  MemoryBudgetStore,
  DEFAULT_MAX_CLIENTS,
  type BudgetResult,
  type BudgetStore,
} from './store.ts';
export { ApiKeys, parseKeyFile } from './api-keys.ts';
export {
  BudgetCounter,
  DurableObjectBudgetStore,
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
} from './durable-object.ts';
export { budgetSubject, normalizeAddress } from './address.ts';

/**
 * The client address a budget counts against, in canonical form. Only when the peer is one of
 * `trustedProxies` is X-Forwarded-For believed: then the rightmost hop that is not itself a trusted proxy
 * (the address the first of our proxies saw) counts, since hops further left are whatever the client chose
 * to write. A hop that is not an IP address literal is refused in favour of the peer. Every comparison is
 * between normalized addresses, so '::ffff:10.0.0.1', '10.0.0.1' and an upper-case IPv6 spelling agree.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies?: readonly string[],
): string | undefined {
  const p = normalizeAddress(peer) ?? peer;
  if (!p || !forwardedFor || !trustedProxies?.length) return p;
  const trusted = new Set(trustedProxies.map((t) => normalizeAddress(t) ?? t));
  if (!trusted.has(p)) return p;
  const hops = forwardedFor.split(',').slice(-64); // bounded: the header is client-written
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]);
    if (hop === null) return p;
    if (trusted.has(hop)) continue;
    return hop;
  }
  return p;
}

/**
 * The budget identity of a request. With issued keys: 'key:<id>' for a matching bearer key, 401 for any
 * other Authorization header, and the address for a request without one. Without issued keys the header is
 * ignored (a token nobody issued identifies nobody) and the address counts: 'addr:<address or /64>'.
 */
export async function clientIdentity(
  authorization: string | undefined,
  address: string | undefined,
  keys: ApiKeys | null,
): Promise<string> {
  if (keys && keys.size > 0 && authorization !== undefined) {
    const bearer = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(authorization)?.[1];
    const id = bearer ? await keys.match(bearer) : null;
    if (!id) {
      throw new HttpError(
        401,
        bearer ? 'unknown API key' : 'Authorization must be "Bearer <API key>"',
        { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      );
    }
    return `key:${id}`;
  }
  return `addr:${budgetSubject(address ?? 'unknown')}`;
}

export class QueryBudget {
  constructor(
    private readonly config: Omit<Budgets, 'store'>,
    readonly store: BudgetStore,
  ) {}

  /**
   * Charges n queries to `identity`, or throws 429 with Retry-After (seconds to the window's end), or 503
   * when the store cannot answer (fail closed: an unchecked budget is no budget). Returns the refund.
   */
  async charge(identity: string, n: number): Promise<() => Promise<void>> {
    // Stored keys are hashes: identities never sit in Redis in clear, and key length is bounded.
    const key = (await sha256Hex(identity)).slice(0, 32);
    let r;
    try {
      r = await this.store.take(key, n, this.config.limit, this.config.windowMs);
    } catch {
      throw unavailable('query budget store unavailable');
    }
    if (!r.allowed) {
      const message =
        n > this.config.limit
          ? `request of ${n} images exceeds the query budget of ${this.config.limit} per window`
          : `query budget exhausted: ${r.used} of ${this.config.limit} images used in this window`;
      throw new HttpError(429, message, {
        'Retry-After': String(Math.max(1, Math.ceil(r.resetMs / 1000))),
      });
    }
    return () => this.store.refund(key, n).catch(() => {});
  }

  /** Whether the store answers (readiness): false when a remote store is unreachable. */
  healthy(): Promise<boolean> {
    return storeAnswers(this.store);
  }
}
