// Budget counts in Redis (ioredis), shared by every instance and kept across restarts. Each charge is one
// Lua script, so check, INCRBY and PEXPIRE happen atomically even with many instances racing; every counter
// carries the window as its TTL, so rotating identities leave nothing behind once their windows end.
import type { Redis } from 'ioredis';
import { failFastRedis } from '../redis-client.ts';
import type { BudgetResult, BudgetStore } from './store.ts';

// KEYS[1] counter; ARGV n, limit, windowMs. Refuses without counting when cur + n > limit. A key without a
// TTL (never expected, but e.g. a PERSIST by hand) gets one, so no client is locked out forever.
const TAKE = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local n, limit, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if cur > 0 and ttl < 0 then redis.call('PEXPIRE', KEYS[1], win); ttl = win end
if cur + n > limit then return {0, cur, ttl} end
local v = redis.call('INCRBY', KEYS[1], n)
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], win); ttl = win end
return {1, v, ttl}`;

const REFUND = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur <= 0 then return 0 end
return redis.call('DECRBY', KEYS[1], math.min(cur, tonumber(ARGV[1])))`;

export interface RedisBudgetOptions {
  /** redis://host:port[/db] */
  url: string;
  /** Key prefix (default 'hashguard:budget:'), so deployments and tests can share one Redis. */
  prefix?: string;
}

export class RedisBudgetStore implements BudgetStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisBudgetOptions) {
    this.prefix = options.prefix ?? 'hashguard:budget:';
    this.redis = failFastRedis(options.url);
  }

  /** Connects (call once at startup so a wrong URL fails there, not on the first request). */
  async connect(): Promise<this> {
    if (this.redis.status === 'wait') await this.redis.connect();
    return this;
  }

  async take(key: string, n: number, limit: number, windowMs: number): Promise<BudgetResult> {
    const [allowed, used, ttl] = (await this.redis.eval(
      TAKE,
      1,
      this.prefix + key,
      n,
      limit,
      windowMs,
    )) as [number, number, number];
    return { allowed: allowed === 1, used, resetMs: Math.max(1, ttl) };
  }

  /** Rejects unless Redis answers now (readiness turns 503 while it is down; ioredis reconnects by itself). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async refund(key: string, n: number): Promise<void> {
    await this.redis.eval(REFUND, 1, this.prefix + key, n);
  }

  /** Deletes every counter under this store's prefix (tests). */
  async clear(): Promise<void> {
    const keys = await this.redis.keys(`${this.prefix}*`);
    if (keys.length) await this.redis.del(...keys);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
