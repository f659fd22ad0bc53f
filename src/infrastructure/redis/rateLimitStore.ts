import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';

const CONNECT_TIMEOUT_MS = 5_000;

export interface RateLimitRedis {
  /** A store for counts kept under `prefix`. */
  store(prefix: string): Store;
  close(): Promise<void>;
}

/**
 * Redis for rate-limit counts, so that every instance of one shop draws on one budget per client.
 * Redis must answer at start; later, a command fails at once while it is away (no offline queue),
 * and the limiter lets requests through meanwhile.
 */
export async function connectRateLimitRedis(url: string, logger: Logger): Promise<RateLimitRedis> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000),
    },
  });
  client.on('error', (error: unknown) => logger.warn({ err: error }, 'Redis of the rate limits failed'));
  const connected = await Promise.race([
    client.connect().then(() => true),
    delay(CONNECT_TIMEOUT_MS).then(() => false),
  ]);
  if (!connected) {
    client.destroy();
    throw new Error(`REDIS_URL does not answer within ${CONNECT_TIMEOUT_MS / 1000} s`);
  }
  return {
    store: (prefix) =>
      new RedisStore({ prefix, sendCommand: (...command: string[]) => client.sendCommand(command) }),
    close: async () => {
      client.destroy();
    },
  };
}
