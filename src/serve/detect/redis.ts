// Query fingerprints and client verdicts in Redis (ioredis), shared by every instance of a fleet: one Lua script
// per request matches and stores its rows atomically. Bounded by construction: a fixed number of bucket lists,
// each trimmed to a fixed length and expiring historyMs after its last write, so the keyspace never grows.
import type { Redis } from 'ioredis';
import { failFastRedis } from '../redis-client.ts';
import type { DetectSettings } from './settings.ts';
import {
  bucketOf,
  bucketCount,
  SLOTS_PER_BUCKET,
  type DetectStore,
  type RowMatches,
} from './store.ts';

// ARGV: client, now, historyMs, maxQueries, perHash, matchShare, matchLeast, listLength, rows, then per row its
// hash count k and k (hash, bucket) pairs. A bucket list holds "hash id client time length" entries, newest
// first; a query id older than the last maxQueries, or older than historyMs, is gone (as in the in-memory ring).
const OBSERVE = `
local p = KEYS[1]
local client, now, hist = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local maxq, per, share, least = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local len, rows, a, out = tonumber(ARGV[8]), tonumber(ARGV[9]), 10, {}
for r = 1, rows do
  local k = tonumber(ARGV[a]); a = a + 1
  local seq = tonumber(redis.call('GET', p .. 'seq') or '0')
  local tally, owner, size = {}, {}, {}
  for i = 0, k - 1 do
    local h, b = ARGV[a + 2 * i], ARGV[a + 2 * i + 1]
    local seen = 0
    for _, e in ipairs(redis.call('LRANGE', p .. 'b:' .. b, 0, -1)) do
      if seen >= per then break end
      local eh, eid, ec, et, el = string.match(e, '^(%d+) (%d+) (%S+) (%d+) (%d+)$')
      if eh == h then
        eid = tonumber(eid)
        if seq - eid < maxq then
          seen = seen + 1
          if tonumber(et) >= now - hist then
            tally[eid] = (tally[eid] or 0) + 1
            owner[eid] = ec
            size[eid] = tonumber(el)
          end
        end
      end
    end
  end
  local own, others = 0, 0
  for id, n in pairs(tally) do
    if n >= least and n >= share * math.min(k, size[id]) then
      if owner[id] == client then own = own + 1 else others = others + 1 end
    end
  end
  out[#out + 1] = own
  out[#out + 1] = others
  local id = redis.call('INCR', p .. 'seq')
  for i = 0, k - 1 do
    local key = p .. 'b:' .. ARGV[a + 2 * i + 1]
    redis.call('LPUSH', key, ARGV[a + 2 * i] .. ' ' .. id .. ' ' .. client .. ' ' .. now .. ' ' .. k)
    redis.call('LTRIM', key, 0, len - 1)
    redis.call('PEXPIRE', key, hist)
  end
  a = a + 2 * k
end
out[#out + 1] = tonumber(redis.call('GET', p .. 'seq') or '0')
return out`;

// KEYS[1] client hash; ARGV now, historyMs, window, then one 0/1 per query. The client's last `window` verdicts
// are bits of one number (newest lowest), forgotten after historyMs without a query; returns the set bits
// before and after.
const RECORD = `
local now, hist, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local bits = tonumber(redis.call('HGET', KEYS[1], 'bits') or '0')
local seen = tonumber(redis.call('HGET', KEYS[1], 'seen') or '0')
if seen < now - hist then bits = 0 end
local function count(v)
  local n = 0
  while v > 0 do n = n + v % 2; v = math.floor(v / 2) end
  return n
end
local before = count(bits)
local top = 2 ^ win
for i = 4, #ARGV do bits = (bits * 2 + tonumber(ARGV[i])) % top end
redis.call('HSET', KEYS[1], 'bits', bits, 'seen', now)
local ban = tonumber(redis.call('HGET', KEYS[1], 'ban') or '0')
redis.call('PEXPIRE', KEYS[1], math.max(now + hist, ban) - now)
return {before, count(bits)}`;

// KEYS[1] client hash; ARGV until, now, historyMs.
const BAN = `
redis.call('HSET', KEYS[1], 'ban', ARGV[1], 'bits', 0)
local now = tonumber(ARGV[2])
local seen = tonumber(redis.call('HGET', KEYS[1], 'seen') or '0')
redis.call('PEXPIRE', KEYS[1], math.max(seen + tonumber(ARGV[3]), tonumber(ARGV[1])) - now)
return 1`;

export interface RedisDetectOptions {
  /** redis://host:port[/db] */
  url: string;
  /** Key prefix (default 'hashguard:detect:'), so deployments and tests can share one Redis. */
  prefix?: string;
}

export class RedisDetectStore implements DetectStore {
  readonly shared = true;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly buckets: number;
  private lastSeq = 0;

  constructor(
    private readonly s: Pick<
      DetectSettings,
      'matchShare' | 'matchLeast' | 'historyMs' | 'maxQueries' | 'perHash' | 'window'
    > & { topK: number },
    options: RedisDetectOptions,
  ) {
    this.prefix = options.prefix ?? 'hashguard:detect:';
    this.buckets = bucketCount(s.maxQueries, s.topK);
    this.redis = failFastRedis(options.url);
  }

  async connect(): Promise<this> {
    if (this.redis.status === 'wait') await this.redis.connect();
    return this;
  }

  async observe(client: string, rows: readonly Uint32Array[], now: number): Promise<RowMatches[]> {
    const args: (string | number)[] = [
      client,
      now,
      this.s.historyMs,
      this.s.maxQueries,
      this.s.perHash,
      this.s.matchShare,
      this.s.matchLeast,
      this.s.perHash * SLOTS_PER_BUCKET,
      rows.length,
    ];
    for (const f of rows) {
      const k = Math.min(f.length, this.s.topK);
      args.push(k);
      for (let i = 0; i < k; i++) args.push(f[i], bucketOf(f[i], this.buckets - 1));
    }
    const out = (await this.redis.eval(OBSERVE, 1, this.prefix, ...args)) as number[];
    this.lastSeq = Math.min(out[out.length - 1], this.s.maxQueries);
    return rows.map((_, i) => ({ own: out[2 * i], others: out[2 * i + 1] }));
  }

  async record(
    client: string,
    suspicious: readonly boolean[],
    now: number,
  ): Promise<{ before: number; after: number }> {
    const [before, after] = (await this.redis.eval(
      RECORD,
      1,
      `${this.prefix}c:${client}`,
      now,
      this.s.historyMs,
      this.s.window,
      ...suspicious.map((s) => (s ? 1 : 0)),
    )) as [number, number];
    return { before, after };
  }

  async ban(client: string, until: number, now: number): Promise<void> {
    await this.redis.eval(BAN, 1, `${this.prefix}c:${client}`, until, now, this.s.historyMs);
  }

  async bannedFor(client: string, now: number): Promise<number> {
    const ban = Number((await this.redis.hget(`${this.prefix}c:${client}`, 'ban')) ?? 0);
    return ban > now ? ban - now : 0;
  }

  /** Queries stored fleet-wide as of this instance's last request, at most maxQueries (Redis reports its memory). */
  usage(): { queries: number; bytes: null } {
    return { queries: this.lastSeq, bytes: null };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Deletes every key under this store's prefix (tests). */
  async clear(): Promise<void> {
    const keys = await this.redis.keys(`${this.prefix}*`);
    if (keys.length) await this.redis.del(...keys);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
