import pg from 'pg';
import type { Logger } from 'pino';

export type Queryable = Pick<pg.ClientBase, 'query'>;

/** A session left idle inside a transaction holds back event delivery for everybody; end it. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

export function postgresConnectionConfig(connectionString: string, applicationName: string): pg.ClientConfig {
  return {
    connectionString,
    application_name: applicationName,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

export function createPool(connectionString: string, logger: Logger, max = 20): pg.Pool {
  const pool = new pg.Pool({ ...postgresConnectionConfig(connectionString, 'shop'), max });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  return pool;
}

/** Runs `work` in one transaction on one client, committed if it resolves, rolled back if it throws. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
