import { Redis } from 'ioredis';

/** The shared Redis of a multi-instance deployment: rate-limit counters every instance sees. */
export interface RedisConnection {
  readonly client: Redis;
  /** Resolves when Redis answers PING within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to Redis for counters that must be shared. Failing fast matters more than any one
 * count: no offline queue, one retry and short timeouts, so an outage gives an error at once
 * (callers let the request through, or report the dependency down) and never a hung request.
 * ioredis keeps reconnecting in the background, so service resumes by itself.
 */
export async function openRedis(
  url: string,
  onUnavailable: (error: Error) => void,
): Promise<RedisConnection> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
  });
  let reported = false;
  client.on('error', (error: Error) => {
    // Reconnect attempts repeat the error; one report per outage is enough.
    if (!reported) onUnavailable(error);
    reported = true;
  });
  client.on('ready', () => (reported = false));
  try {
    await client.connect();
  } catch {
    // Reported by the error listener; reconnection goes on in the background.
  }
  return {
    client,
    async ping(timeoutMs = 1000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([client.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      client.disconnect();
    },
  };
}
