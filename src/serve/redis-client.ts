// The Redis client the budget and detector stores share, loaded only with them (the default server never
// imports ioredis): fail fast, so a request that cannot be checked is refused with 503 rather than queued.
import { Redis } from 'ioredis';

/**
 * A lazily connecting ioredis client that never queues: one retry, no offline queue, 2 s to connect and 1 s per
 * command, so a Redis that accepts connections but stops answering cannot hold requests either.
 */
export function failFastRedis(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: 1000,
  });
  redis.on('error', () => {}); // reported per command; without a listener ioredis logs every retry
  return redis;
}
