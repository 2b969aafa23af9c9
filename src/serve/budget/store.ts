// Fixed-window query counters: the store contract and the in-memory store (one process). Windows start at a
// client's first query and last windowMs; a request that would pass the limit is refused and not counted.
// The in-memory store holds at most maxClients windows (least recently charged evicted first).
import { LruMap } from '../lru-map.ts';

/** The outcome of one charge. */
export interface BudgetResult {
  allowed: boolean;
  /** The count in the window after this charge (or unchanged, when refused). */
  used: number;
  /** Milliseconds until the window resets (≥ 1). */
  resetMs: number;
}

/** Where budget counts live. Implementations must make take() atomic per key. */
export interface BudgetStore {
  /** Adds n to key's count unless that would pass `limit`; a new window opens with the first charge. */
  take(key: string, n: number, limit: number, windowMs: number): Promise<BudgetResult>;
  /** Gives back n queries charged to key (a request shed after it was charged). */
  refund(key: string, n: number): Promise<void>;
  /** Resolves when the store can answer, rejects when it cannot (readiness); absent: always answers. */
  ping?(): Promise<void>;
  close?(): Promise<void>;
}

/** Default cap on clients the in-memory store tracks at once (about 100 bytes each). */
export const DEFAULT_MAX_CLIENTS = 100_000;

/** Counts in this process's memory: exact for one instance, lost on restart (use Redis to share them). */
export class MemoryBudgetStore implements BudgetStore {
  private readonly windows: LruMap<string, { count: number; resetAt: number }>;
  private lastSweep = 0;

  /**
   * maxClients bounds memory whatever identities clients rotate through: past it the least recently charged
   * window is dropped (that client starts a fresh window: the cost of a bound, paid by the idlest client).
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxClients = DEFAULT_MAX_CLIENTS,
  ) {
    if (!Number.isSafeInteger(maxClients) || maxClients < 1)
      throw new RangeError(
        `MemoryBudgetStore: maxClients must be an integer ≥ 1, got ${maxClients}`,
      );
    this.windows = new LruMap(maxClients);
  }

  /** Windows held now (tests, metrics). */
  get size(): number {
    return this.windows.size;
  }

  async take(key: string, n: number, limit: number, windowMs: number): Promise<BudgetResult> {
    const now = this.now();
    this.sweep(now, windowMs);
    let w = this.windows.get(key); // now the most recently charged
    if (!w || w.resetAt <= now) this.windows.set(key, (w = { count: 0, resetAt: now + windowMs }));
    const allowed = w.count + n <= limit;
    if (allowed) w.count += n;
    return { allowed, used: w.count, resetMs: Math.max(1, w.resetAt - now) };
  }

  async refund(key: string, n: number): Promise<void> {
    const w = this.windows.peek(key);
    if (w) w.count = Math.max(0, w.count - n);
  }

  /** Drops expired windows at most once per window length, so memory tracks active clients only. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep < windowMs) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows.entries()) if (w.resetAt <= now) this.windows.delete(k);
  }
}
