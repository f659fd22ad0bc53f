import { z } from 'zod';
import { RATE_LIMIT_DEFAULT } from '../api/rateLimit.js';

const positiveMs = z.coerce.number().int().positive();

const brokerList = z
  .string()
  .transform((value) => value.split(',').map((broker) => broker.trim()))
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'each broker must be host:port')).min(1));

const ipv4 = z.ipv4();
const ipv6 = z.ipv6();
const hostname = z.hostname();

/** An address to listen on; digits and dots alone are an IPv4 address, never a host name. */
const listenAddress = z
  .string()
  .refine(
    (value) =>
      ipv4.safeParse(value).success ||
      ipv6.safeParse(value).success ||
      (/[^\d.]/.test(value) && hostname.safeParse(value).success),
    'must be an IP address or a host name to listen on, e.g. 127.0.0.1 or 0.0.0.0',
  );

/** Without OIDC_*, tokens come from the development issuer (the three go together, checked below). */
const usesDevelopmentIssuer = (env: { OIDC_ISSUER?: string | undefined }): boolean =>
  env.OIDC_ISSUER === undefined;

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: listenAddress.optional(),
    DATA_DIR: z.string().min(1).default('./.data'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
    EVENTSTORE_CONNECTION_STRING: z
      .string()
      .regex(/^(esdb|kurrentdb|kdb)(\+discover)?:\/\//, 'must start with esdb:// or kurrentdb://')
      .optional(),
    KAFKA_BROKERS: brokerList.optional(),
    OIDC_ISSUER: z.url().optional(),
    OIDC_AUDIENCE: z.string().min(1).optional(),
    OIDC_JWKS_URI: z.url().optional(),
    ORDER_TIMEOUT_MS: positiveMs.default(1_800_000),
    PAYMENT_RETRY_DELAY_MS: positiveMs.default(500),
    CART_TTL_MS: positiveMs.default(2_592_000_000),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(RATE_LIMIT_DEFAULT),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, context) => {
    if (env.EVENT_STORE === 'eventstoredb' && !env.EVENTSTORE_CONNECTION_STRING) {
      context.addIssue({
        code: 'custom',
        path: ['EVENTSTORE_CONNECTION_STRING'],
        message: 'is required when EVENT_STORE=eventstoredb',
      });
    }
    const oidc = [env.OIDC_ISSUER, env.OIDC_AUDIENCE, env.OIDC_JWKS_URI].filter(
      (value) => value !== undefined,
    );
    if (oidc.length !== 0 && oidc.length !== 3) {
      context.addIssue({
        code: 'custom',
        path: ['OIDC_ISSUER'],
        message: 'OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URI go together: set all three or none',
      });
    }
    if (env.NODE_ENV === 'production' && oidc.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['OIDC_ISSUER'],
        message: 'is required when NODE_ENV=production: the development token issuer is refused there',
      });
    }
    if (env.NODE_ENV === 'production' && !env.DATABASE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: 'is required when NODE_ENV=production: the embedded PostgreSQL is for development',
      });
    }
  })
  .transform(({ HOST, ...env }) => ({
    ...env,
    // The development issuer hands an admin token to whoever asks: by default, only this machine may.
    HOST: HOST ?? (usesDevelopmentIssuer(env) ? '127.0.0.1' : '0.0.0.0'),
  }));

export type Config = z.infer<typeof schema>;

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(host);

/**
 * What a start must warn of when the development issuer listens beyond this machine: its tokens are
 * handed to anyone who asks, admin ones included.
 */
export function developmentIssuerExposure(config: Config): string | undefined {
  if (!usesDevelopmentIssuer(config) || isLoopback(config.HOST)) return undefined;
  const where = ['0.0.0.0', '::'].includes(config.HOST) ? 'any address of this machine' : config.HOST;
  return (
    `HOST=${config.HOST} with the development token issuer: anyone who reaches the shop at ${where} can ` +
    'mint admin tokens (POST /dev/token); set OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URI, or HOST=127.0.0.1'
  );
}

export class InvalidConfiguration extends Error {
  override readonly name = 'InvalidConfiguration';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** The one place that reads `process.env`: empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new InvalidConfiguration(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = present[name];
      return `${name}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;
    }),
  );
}
