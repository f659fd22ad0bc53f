import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlQuery } from '../../projections/consumer.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

/** A connection left idle inside a transaction holds back event delivery for everybody; end it. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/** A request waiting for a connection to a server that does not answer fails instead of hanging. */
const CONNECT_TIMEOUT_MS = 5_000;

export function postgresConnectionConfig(connectionString: string, applicationName: string): pg.ClientConfig {
  return {
    connectionString,
    application_name: applicationName,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

export function createPool(connectionString: string, logger: Logger, max = 20): pg.Pool {
  const pool = new pg.Pool({
    ...postgresConnectionConfig(connectionString, 'shop'),
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  return pool;
}

/**
 * SQLSTATE classes that say the server cannot serve now rather than that a statement was wrong:
 * connection exceptions (08), insufficient resources (53), operator intervention such as a
 * shutdown (57P); and 3D000, the database no longer exists.
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|3D000$)/;
/** Node's errors of a connection that cannot be made or was lost; not ENOENT, EACCES and the like. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/** What the driver throws, without a code, when a connection drops or cannot be had in time. */
const DRIVER_CONNECTION_FAILURE = /^(Connection terminated|timeout exceeded when trying to connect)/;

/** Whether `error` means PostgreSQL cannot be reached or cannot serve now (503), not a bug (500). */
export function isPostgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return UNAVAILABLE_SQLSTATE.test(code) || NETWORK_ERROR_CODES.has(code);
  return DRIVER_CONNECTION_FAILURE.test(error.message);
}

/** A pool or one of its connections as the consumers' SQL port: statements with their values. */
export const sqlQueryOn =
  (queryable: pg.Pool | pg.PoolClient): SqlQuery =>
  async <Row extends object>(text: string, values?: readonly unknown[]) => {
    const result = await queryable.query<Row>(text, values as unknown[] | undefined);
    return { rows: result.rows, rowCount: result.rowCount };
  };
