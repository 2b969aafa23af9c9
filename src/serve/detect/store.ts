// Where query fingerprints and client verdicts live: the store contract and the in-memory store (one process).
// Memory is fixed at construction: a ring of the last maxQueries queries, a bucketed hash index over their
// fingerprints (each hash → its most recent query, chained to older ones) and a bounded map of client counts and bans.
import { fingerprintsMatch } from '../../hash/index.ts';
import { LruMap } from '../lru-map.ts';
import type { DetectSettings } from './settings.ts';

/** Stored queries a new query matches (fingerprintsMatch with matchShare and matchLeast, younger than historyMs). */
export interface RowMatches {
  /** The same client's. */
  own: number;
  /** Other clients'. */
  others: number;
}

export interface DetectStore {
  /** Whether the store lives outside this process (shared by a fleet): client identities reach it only as digests. */
  readonly shared: boolean;
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
// Bytes of one in-memory bucket: SLOTS_PER_BUCKET u32 hashes, as many u32 ids and u16 positions.
const BUCKET_BYTES = SLOTS_PER_BUCKET * 10;
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
  readonly shared = false;
  private readonly s: StoreSettings;
  // The ring: query id i (from 1; 0 means none) lives at slot i % maxQueries while it is among the last maxQueries:
  // its fingerprint's length, time and owner, and per hash p of it, side by side at 2 (slot · topK + p) and the
  // word after (one cache line per step of a chain), the id of the next older query holding the same hash (0: none)
  // and the hash's position there. The hashes themselves live in the index.
  private readonly fpLen: Uint16Array;
  private readonly chain: Uint32Array;
  private readonly times: Float64Array;
  private readonly owners: string[];
  private nextId = 1;
  private stored = 0;
  // The index: buckets of SLOTS_PER_BUCKET entries (a hash, its newest query's id, the hash's position there); an
  // entry whose query left the ring is free. A bucket is 40 contiguous bytes (4 hashes, 4 ids, 4 u16 positions),
  // so a lookup reads one or two cache lines: see key(), head() and headAt().
  private readonly index32: Uint32Array;
  private readonly index16: Uint16Array;
  private readonly bucketMask: number;
  // Per client: its last `window` verdicts as bits (newest lowest), when it last queried, and its ban.
  private readonly clients: LruMap<string, { bits: number; seen: number; banUntil: number }>;
  // Scratch of match(): hashes shared with each ring slot, and the slots touched (at most topK × perHash).
  private readonly tally: Uint16Array;
  private readonly touched: Uint32Array;
  // Scratch of match(): per hash of the query, the chain's current query id and the hash's position there.
  private readonly cur: Uint32Array;
  private readonly curAt: Uint16Array;

  constructor(settings: StoreSettings) {
    this.s = settings;
    const { maxQueries, topK } = settings;
    this.clients = new LruMap(settings.maxClients);
    this.fpLen = new Uint16Array(maxQueries);
    this.chain = new Uint32Array(maxQueries * topK * 2);
    this.times = new Float64Array(maxQueries);
    this.owners = new Array<string>(maxQueries).fill('');
    const buckets = bucketCount(maxQueries, topK);
    const index = new ArrayBuffer(buckets * BUCKET_BYTES);
    this.index32 = new Uint32Array(index);
    this.index16 = new Uint16Array(index);
    this.bucketMask = buckets - 1;
    this.tally = new Uint16Array(maxQueries);
    this.touched = new Uint32Array(topK * settings.perHash);
    this.cur = new Uint32Array(topK);
    this.curAt = new Uint16Array(topK);
  }

  usage(): { queries: number; bytes: number } {
    const arrays = [this.fpLen, this.chain, this.times, this.index32, this.tally, this.touched];
    arrays.push(this.cur, this.curAt);
    const bytes = arrays.reduce((a, t) => a + t.byteLength, 0) + this.s.maxQueries * 8;
    return { queries: this.stored, bytes: bytes + this.clients.size * 120 };
  }

  /** Whether id is still in the ring (its slot not yet reused). */
  private live(id: number): boolean {
    const age = (this.nextId - id) >>> 0;
    return id !== 0 && age >= 1 && age <= this.s.maxQueries;
  }

  // Entry j of the index (bucket j >> 2, entry j & 3): its hash, head id and position, by the layout above.
  private key(j: number): number {
    return this.index32[(j >> 2) * 10 + (j & 3)];
  }
  private head(j: number): number {
    return this.index32[(j >> 2) * 10 + 4 + (j & 3)];
  }
  private headAt(j: number): number {
    return this.index16[(j >> 2) * 20 + 16 + (j & 3)];
  }
  private setEntry(j: number, h: number, id: number, at: number): void {
    this.index32[(j >> 2) * 10 + (j & 3)] = h;
    this.index32[(j >> 2) * 10 + 4 + (j & 3)] = id;
    this.index16[(j >> 2) * 20 + 16 + (j & 3)] = at;
  }

  /** Index entry holding hash h with a live head, or -1. */
  private find(h: number): number {
    const b = bucketOf(h, this.bucketMask) * SLOTS_PER_BUCKET;
    for (let j = b; j < b + SLOTS_PER_BUCKET; j++)
      if (this.key(j) === h && this.live(this.head(j))) return j;
    return -1;
  }

  async observe(client: string, rows: readonly Uint32Array[], now: number): Promise<RowMatches[]> {
    return rows.map((f) => {
      const m = this.match(f, client, now);
      this.insert(f, client, now);
      return m;
    });
  }

  private match(f: Uint32Array, client: string, now: number): RowMatches {
    // Shared-hash counts per ring slot, in scratch arrays reset after use: no allocation per query.
    const { tally, touched } = this;
    const { maxQueries, topK, perHash, historyMs, matchShare, matchLeast } = this.s;
    // Only the first topK hashes, as insert() keeps (fingerprints of the detector's settings have no more).
    const m = Math.min(f.length, topK);
    // The walk goes breadth first: every hash's index entry, then every chain's first step, and so on. Each
    // pass's reads are independent of each other, so the processor overlaps their cache misses (the index and
    // chains are tens of MB, read at random); one chain followed to its end would wait on every miss in turn.
    const { cur, curAt } = this;
    for (let p = 0; p < m; p++) {
      const j = this.find(f[p]);
      cur[p] = j < 0 ? 0 : this.head(j);
      curAt[p] = j < 0 ? 0 : this.headAt(j);
    }
    let n = 0;
    for (let step = 0; step < perHash; step++)
      for (let p = 0; p < m; p++) {
        const id = cur[p];
        if (!this.live(id)) continue;
        const slot = id % maxQueries;
        if (tally[slot]++ === 0) touched[n++] = slot;
        const link = 2 * (slot * topK + curAt[p]);
        cur[p] = this.chain[link];
        curAt[p] = this.chain[link + 1];
      }
    let own = 0,
      others = 0;
    const since = now - historyMs;
    for (let t = 0; t < n; t++) {
      const slot = touched[t],
        shared = tally[slot];
      tally[slot] = 0;
      // Most touched queries share a hash or two: rejected before reading anything more of them.
      if (shared < matchLeast || this.times[slot] < since) continue;
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
    this.fpLen[slot] = k;
    this.times[slot] = now;
    this.owners[slot] = client;
    this.stored = Math.min(this.stored + 1, this.s.maxQueries);
    for (let p = 0; p < k; p++) {
      const h = f[p];
      let j = this.find(h);
      const link = 2 * (base + p);
      if (j >= 0) {
        this.chain[link] = this.head(j);
        this.chain[link + 1] = this.headAt(j);
      } else {
        this.chain[link] = 0;
        // A free entry (empty, or its query gone from the ring), else the bucket's oldest.
        const b = bucketOf(h, this.bucketMask) * SLOTS_PER_BUCKET;
        j = b;
        for (let i = b; i < b + SLOTS_PER_BUCKET; i++) {
          if (!this.live(this.head(i))) {
            j = i;
            break;
          }
          if ((this.nextId - this.head(i)) >>> 0 > (this.nextId - this.head(j)) >>> 0) j = i;
        }
      }
      this.setEntry(j, h, id, p);
    }
  }

  /** A client's record, refreshed as most recently seen; past maxClients the least recent is dropped. */
  private client(key: string) {
    let c = this.clients.get(key);
    if (!c) this.clients.set(key, (c = { bits: 0, seen: 0, banUntil: 0 }));
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
    const c = this.clients.peek(client);
    return c && c.banUntil > now ? c.banUntil - now : 0;
  }
}
