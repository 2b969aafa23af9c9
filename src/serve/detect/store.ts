// Where query fingerprints and client verdicts live: the store contract and the in-memory store (one process).
// Memory is fixed at construction: a ring of the last maxQueries fingerprints, a bucketed hash index over them
// (each hash → its most recent query, chained to older ones) and a bounded map of client counts and bans.
import { fingerprintsMatch } from '../../hash/index.ts';
import type { DetectSettings } from './settings.ts';

/** Stored queries a new query matches (fingerprintsMatch with matchShare and matchLeast, younger than historyMs). */
export interface RowMatches {
  /** The same client's. */
  own: number;
  /** Other clients'. */
  others: number;
}

export interface DetectStore {
  /**
   * Matches each row (an ascending fingerprint) against the stored queries, then stores it, row by row (so a
   * request's later rows see its earlier ones). Atomic per call in shared stores.
   */
  observe(client: string, rows: readonly Uint32Array[], now: number): Promise<RowMatches[]>;
  /**
   * Records whether each of a request's queries was suspicious in the client's window (its last `window`
   * queries, forgotten after historyMs without one) and returns the suspicious count before and after.
   */
  record(
    client: string,
    suspicious: readonly boolean[],
    now: number,
  ): Promise<{ before: number; after: number }>;
  /** Refuses the client until `until` (ms since the epoch; `now` is the detector's clock); its window starts over. */
  ban(client: string, until: number, now: number): Promise<void>;
  /** Milliseconds the client stays banned, 0 when it is not. */
  bannedFor(client: string, now: number): Promise<number>;
  /** Stored queries and bytes held (bytes null when the store cannot tell, e.g. Redis). */
  usage(): { queries: number; bytes: number | null };
  /** Resolves when the store can answer, rejects when it cannot (readiness); absent: always answers. */
  ping?(): Promise<void>;
  close?(): Promise<void>;
}

export type StoreSettings = Pick<
  DetectSettings,
  'matchShare' | 'matchLeast' | 'historyMs' | 'maxQueries' | 'perHash' | 'maxClients' | 'window'
> & { topK: number };

/** Set bits of a window bitmask (at most 32 bits). */
export function popcount(v: number): number {
  let n = 0;
  for (let b = v >>> 0; b; b &= b - 1) n++;
  return n;
}

/** Index pairs per bucket (the Redis store keeps perHash × this many entries per bucket list). */
export const SLOTS_PER_BUCKET = 4;
// Spreads a fingerprint hash over the buckets: fingerprints keep the smallest hashes, so their high bits are 0.
export const bucketOf = (h: number, mask: number) =>
  (Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0) & mask;
/** Buckets for maxQueries fingerprints of topK hashes: about one index pair per stored hash, a power of two. */
export function bucketCount(maxQueries: number, topK: number): number {
  let buckets = 1;
  while (buckets * SLOTS_PER_BUCKET < maxQueries * topK) buckets *= 2;
  return buckets;
}

export class MemoryDetectStore implements DetectStore {
  private readonly s: StoreSettings;
  // The ring: query id i (from 1; 0 means none) lives at slot i % maxQueries while it is among the last maxQueries.
  private readonly fps: Uint32Array;
  private readonly fpLen: Uint16Array;
  /** Per stored hash: the id of the next older query holding the same hash (0: none). */
  private readonly older: Uint32Array;
  private readonly times: Float64Array;
  private readonly owners: string[];
  private nextId = 1;
  private stored = 0;
  // The index: buckets of SLOTS_PER_BUCKET (hash, newest query id) pairs; a pair whose query left the ring is free.
  private readonly keys: Uint32Array;
  private readonly heads: Uint32Array;
  private readonly bucketMask: number;
  // Per client: its last `window` verdicts as bits (newest lowest), when it last queried, and its ban.
  private readonly clients = new Map<string, { bits: number; seen: number; banUntil: number }>();

  constructor(settings: StoreSettings) {
    this.s = settings;
    const { maxQueries, topK } = settings;
    this.fps = new Uint32Array(maxQueries * topK);
    this.fpLen = new Uint16Array(maxQueries);
    this.older = new Uint32Array(maxQueries * topK);
    this.times = new Float64Array(maxQueries);
    this.owners = new Array<string>(maxQueries).fill('');
    const buckets = bucketCount(maxQueries, topK);
    this.keys = new Uint32Array(buckets * SLOTS_PER_BUCKET);
    this.heads = new Uint32Array(buckets * SLOTS_PER_BUCKET);
    this.bucketMask = buckets - 1;
  }

  usage(): { queries: number; bytes: number } {
    const arrays = [this.fps, this.fpLen, this.older, this.times, this.keys, this.heads];
    const bytes = arrays.reduce((a, t) => a + t.byteLength, 0) + this.s.maxQueries * 8;
    return { queries: this.stored, bytes: bytes + this.clients.size * 120 };
  }

  /** Whether id is still in the ring (its slot not yet reused). */
  private live(id: number): boolean {
    const age = (this.nextId - id) >>> 0;
    return id !== 0 && age >= 1 && age <= this.s.maxQueries;
  }

  /** Index slot holding hash h with a live head, or -1. */
  private find(h: number): number {
    const b = bucketOf(h, this.bucketMask) * SLOTS_PER_BUCKET;
    for (let j = b; j < b + SLOTS_PER_BUCKET; j++)
      if (this.keys[j] === h && this.live(this.heads[j])) return j;
    return -1;
  }

  /** Position of h in query id's fingerprint (it is there: the index only chains ids that hold it). */
  private position(id: number, h: number): number {
    const slot = id % this.s.maxQueries,
      base = slot * this.s.topK;
    let lo = 0,
      hi = this.fpLen[slot] - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.fps[base + mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async observe(client: string, rows: readonly Uint32Array[], now: number): Promise<RowMatches[]> {
    return rows.map((f) => {
      const m = this.match(f, client, now);
      this.insert(f, client, now);
      return m;
    });
  }

  private match(f: Uint32Array, client: string, now: number): RowMatches {
    const tally = new Map<number, number>();
    for (const h of f) {
      const j = this.find(h);
      let id = j < 0 ? 0 : this.heads[j];
      for (let step = 0; step < this.s.perHash && this.live(id); step++) {
        tally.set(id, (tally.get(id) ?? 0) + 1);
        const slot = id % this.s.maxQueries;
        id = this.older[slot * this.s.topK + this.position(id, h)];
      }
    }
    let own = 0,
      others = 0;
    const since = now - this.s.historyMs;
    for (const [id, shared] of tally) {
      const slot = id % this.s.maxQueries;
      const { matchShare, matchLeast } = this.s;
      if (this.times[slot] < since) continue;
      if (!fingerprintsMatch(shared, f.length, this.fpLen[slot], matchShare, matchLeast)) continue;
      if (this.owners[slot] === client) own++;
      else others++;
    }
    return { own, others };
  }

  private insert(f: Uint32Array, client: string, now: number): void {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1; // ids wrap past 2^32 − 1, skipping 0
    const slot = id % this.s.maxQueries,
      base = slot * this.s.topK;
    const k = Math.min(f.length, this.s.topK);
    this.fps.set(f.subarray(0, k), base);
    this.fpLen[slot] = k;
    this.times[slot] = now;
    this.owners[slot] = client;
    this.stored = Math.min(this.stored + 1, this.s.maxQueries);
    for (let p = 0; p < k; p++) {
      const h = f[p];
      let j = this.find(h);
      if (j >= 0) {
        this.older[base + p] = this.heads[j];
      } else {
        this.older[base + p] = 0;
        // A free pair (empty, or its query gone from the ring), else the bucket's oldest.
        const b = bucketOf(h, this.bucketMask) * SLOTS_PER_BUCKET;
        j = b;
        for (let i = b; i < b + SLOTS_PER_BUCKET; i++) {
          if (!this.live(this.heads[i])) {
            j = i;
            break;
          }
          if ((this.nextId - this.heads[i]) >>> 0 > (this.nextId - this.heads[j]) >>> 0) j = i;
        }
        this.keys[j] = h;
      }
      this.heads[j] = id;
    }
  }

  /** A client's record, refreshed as most recently seen; past maxClients the least recent is dropped. */
  private client(key: string) {
    const c = this.clients.get(key) ?? { bits: 0, seen: 0, banUntil: 0 };
    this.clients.delete(key);
    this.clients.set(key, c);
    while (this.clients.size > this.s.maxClients)
      this.clients.delete(this.clients.keys().next().value!);
    return c;
  }

  async record(
    client: string,
    suspicious: readonly boolean[],
    now: number,
  ): Promise<{ before: number; after: number }> {
    // A client with no record and nothing suspicious would record only zeros: no record is made (one-off
    // clients then cost no map entry).
    if (!this.clients.has(client) && !suspicious.includes(true)) return { before: 0, after: 0 };
    const c = this.client(client);
    if (c.seen < now - this.s.historyMs) c.bits = 0;
    const before = popcount(c.bits);
    const mask = this.s.window >= 32 ? 0xffffffff : (1 << this.s.window) - 1;
    for (const s of suspicious) c.bits = ((c.bits << 1) | (s ? 1 : 0)) & mask;
    c.seen = now;
    return { before, after: popcount(c.bits) };
  }

  async ban(client: string, until: number, _now: number): Promise<void> {
    const c = this.client(client);
    c.banUntil = until;
    c.bits = 0;
  }

  async bannedFor(client: string, now: number): Promise<number> {
    const c = this.clients.get(client);
    return c && c.banUntil > now ? c.banUntil - now : 0;
  }
}
