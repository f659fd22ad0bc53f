import pg from 'pg';
import type { Logger } from 'pino';
import type { ConsumerTransaction } from '../../projections/consumer.js';
import { announceCheckpoint } from './checkpointSignals.js';
import { sqlQueryOn } from './database.js';
import {
  CheckpointMoved,
  type ConsumerLease,
  type ConsumerStatus,
  type ConsumerStore,
  type ParkedEvent,
  type RunnerTransaction,
} from '../../projections/consumerStore.js';
import { delay } from '../../projections/delay.js';

/** How often the holder of a consumer's lock checks that its connection still works. */
const HEARTBEAT_MS = 5_000;

/**
 * The lock connection's liveness: its queries time out on the client, and both ends send TCP
 * keepalives after 10 s of silence, so a dead peer is found in about half a minute, not hours.
 */
const LOCK_CONNECTION_LIVENESS: pg.ClientConfig = {
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
  query_timeout: 10_000,
  options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
};

/** The advisory lock of a consumer: one bigint from its name, the same in every process. */
const LOCK_KEY = `hashtextextended('shop-consumer:' || $1, 0)`;

/**
 * The SQL call that takes a consumer's checkpoint lock until its transaction ends, `consumer`
 * being a SQL expression: a batch takes it, and so does a rebuild's swap, to hold the batches off.
 */
export const lockCheckpoint = (consumer: string): string =>
  `pg_advisory_xact_lock(hashtextextended('shop-checkpoint:' || ${consumer}, 0))`;

interface ParkedRow {
  consumer: string;
  stream_id: string;
  revision: string;
  position: string;
  event_id: string;
  error: string;
  attempts: number;
  parked_at: Date;
}

export interface PostgresConsumerStoreOptions {
  pool: pg.Pool;
  /** For the one connection per active consumer that holds its lock. */
  lockConnection: pg.ClientConfig;
  logger: Logger;
  /** How often a standby instance tries to take a lock another instance holds. */
  standbyPollMs?: number;
}

/**
 * Checkpoints, parked events and the lock of every consumer, in PostgreSQL. The lock is a session
 * advisory lock on a connection of its own, so that it ends when its holder dies; the checkpoint,
 * locked and compared in every transaction, keeps an instance that lost the lock and does not
 * know it yet from handling what its successor handles.
 */
export class PostgresConsumerStore implements ConsumerStore {
  private readonly pool: pg.Pool;
  private readonly standbyPollMs: number;

  constructor(private readonly options: PostgresConsumerStoreOptions) {
    this.pool = options.pool;
    this.standbyPollMs = options.standbyPollMs ?? 1000;
  }

  async acquire(
    consumer: string,
    signal: AbortSignal,
    onStandby: () => void = () => undefined,
  ): Promise<ConsumerLease | undefined> {
    await this.pool.query(
      'INSERT INTO consumer_checkpoints (consumer) VALUES ($1) ON CONFLICT (consumer) DO NOTHING',
      [consumer],
    );
    while (!signal.aborted) {
      const client = new pg.Client({
        ...this.options.lockConnection,
        ...LOCK_CONNECTION_LIVENESS,
      });
      const lost = new AbortController();
      client.on('error', (error) => {
        this.options.logger.warn({ consumer, err: error }, 'consumer lock connection failed');
        lost.abort();
      });
      client.on('end', () => lost.abort());
      // A wait for the lock ends when the shop stops or this connection is lost, whichever first.
      const waiting = new AbortController();
      const endWait = (): void => waiting.abort();
      signal.addEventListener('abort', endWait, { once: true });
      lost.signal.addEventListener('abort', endWait, { once: true });
      try {
        await client.connect();
        while (!signal.aborted && !lost.signal.aborted) {
          const { rows } = await client.query<{ locked: boolean }>(
            `SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`,
            [consumer],
          );
          if (rows[0]?.locked) return this.lease(client, lost);
          onStandby();
          await delay(this.standbyPollMs, waiting.signal);
        }
      } catch (error) {
        this.options.logger.warn(
          { consumer, err: error },
          'could not ask for the consumer lock; asking again',
        );
        await delay(this.standbyPollMs, signal);
      } finally {
        signal.removeEventListener('abort', endWait);
      }
      await client.end().catch(() => undefined);
    }
    return undefined;
  }

  /**
   * The lock held on `client`. A quiet connection can die unnoticed (a holder's host powered off,
   * a network cut): a query every few seconds finds out, so the holder stops, and the server's
   * keepalives end the dead session, which frees the lock for a standby.
   */
  private lease(client: pg.Client, lost: AbortController): ConsumerLease {
    const heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(() => {
        lost.abort();
        void client.end().catch(() => undefined);
      });
    }, HEARTBEAT_MS);
    lost.signal.addEventListener('abort', () => clearInterval(heartbeat), { once: true });
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(heartbeat);
        await client.end();
      },
    };
  }

  async checkpoint(consumer: string): Promise<number> {
    const { rows } = await this.pool.query<{ position: string }>(
      'SELECT position::text FROM consumer_checkpoints WHERE consumer = $1',
      [consumer],
    );
    return rows[0] === undefined ? -1 : Number(rows[0].position);
  }

  async advance<T>(
    consumer: string,
    from: number,
    to: number,
    work: (tx: RunnerTransaction) => Promise<T>,
  ): Promise<T> {
    return this.lockedTransaction(
      consumer,
      to,
      async (client, { position: actual, anyParked, afterCommit }) => {
        if (actual !== from) throw new CheckpointMoved(consumer, from, actual);
        const result = await work({
          query: sqlQueryOn(client),
          afterCommit,
          parkedAmong: async (streamIds) => {
            // Nearly always nothing is parked: then no stream is, and asking costs nothing.
            if (!anyParked) return new Set();
            const { rows } = await client.query<{ stream_id: string }>(
              'SELECT DISTINCT stream_id FROM parked_events WHERE consumer = $1 AND stream_id = ANY($2)',
              [consumer, streamIds],
            );
            return new Set(rows.map((row) => row.stream_id));
          },
          park: async (events) => {
            await client.query(
              `INSERT INTO parked_events (consumer, stream_id, revision, position, event_id, error, attempts)
             SELECT $1, e.stream_id, e.revision, e.position, e.event_id, e.error, e.attempts
               FROM jsonb_to_recordset($2::jsonb)
                 AS e(stream_id text, revision bigint, position bigint, event_id uuid, error text, attempts int)`,
              [
                consumer,
                JSON.stringify(
                  events.map((event) => ({
                    stream_id: event.streamId,
                    revision: event.revision,
                    position: event.position,
                    event_id: event.eventId,
                    error: event.error,
                    attempts: event.attempts,
                  })),
                ),
              ],
            );
          },
        });
        return result;
      },
    );
  }

  async unpark(
    consumer: string,
    streamId: string,
    work: (parked: readonly ParkedEvent[], tx: ConsumerTransaction) => Promise<void>,
  ): Promise<number> {
    // The checkpoint lock is taken before the parked rows are read: the active instance cannot
    // park or handle in between.
    return this.lockedTransaction(consumer, undefined, async (client, { afterCommit }) => {
      const { rows } = await client.query<ParkedRow>(
        'SELECT * FROM parked_events WHERE consumer = $1 AND stream_id = $2 ORDER BY position',
        [consumer, streamId],
      );
      if (rows.length === 0) return 0;
      await work(rows.map(toParkedEvent), { query: sqlQueryOn(client), afterCommit });
      await client.query('DELETE FROM parked_events WHERE consumer = $1 AND stream_id = $2', [
        consumer,
        streamId,
      ]);
      return rows.length;
    });
  }

  async retryFailed(consumer: string, streamId: string, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE parked_events SET attempts = attempts + 1, error = $3
        WHERE consumer = $1 AND position = (SELECT min(position) FROM parked_events WHERE consumer = $1 AND stream_id = $2)`,
      [consumer, streamId, error],
    );
  }

  async streamsWithParkedEvents(consumer: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ stream_id: string }>(
      'SELECT stream_id FROM parked_events WHERE consumer = $1 GROUP BY stream_id ORDER BY min(position)',
      [consumer],
    );
    return rows.map((row) => row.stream_id);
  }

  async parkedCount(consumer: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(
      'SELECT count(*)::text AS count FROM parked_events WHERE consumer = $1',
      [consumer],
    );
    return Number(rows[0]?.count ?? 0);
  }

  async parked(consumer: string): Promise<ParkedEvent[]> {
    const { rows } = await this.pool.query<ParkedRow>(
      'SELECT * FROM parked_events WHERE consumer = $1 ORDER BY position',
      [consumer],
    );
    return rows.map(toParkedEvent);
  }

  async status(consumer: string): Promise<ConsumerStatus> {
    const { rows } = await this.pool.query<{
      position: string | null;
      parked: string;
      holder: string | null;
    }>(
      `SELECT (SELECT position::text FROM consumer_checkpoints WHERE consumer = $1) AS position,
              (SELECT count(*)::text FROM parked_events WHERE consumer = $1) AS parked,
              (SELECT a.application_name || ' (pid ' || a.pid || coalesce(', ' || host(a.client_addr), '') || ')'
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid::bigint = (${LOCK_KEY} >> 32) & 4294967295
                  AND l.objid::bigint = ${LOCK_KEY} & 4294967295
                LIMIT 1) AS holder`,
      [consumer],
    );
    const row = rows[0];
    return {
      name: consumer,
      checkpoint: row?.position == null ? -1 : Number(row.position),
      parked: Number(row?.parked ?? 0),
      activeInstance: row?.holder ?? undefined,
    };
  }

  /**
   * A transaction that starts by taking the consumer's checkpoint lock and, when `moveTo` is given,
   * ends by moving the checkpoint there. Each end is one round trip (statements sent as one), since
   * a consumer pays them once a batch.
   *
   * The lock is a transaction advisory lock, not a row lock: a row lock gives the transaction an id
   * from its first statement, and an open transaction id holds back the event store's horizon, so
   * every event appended while a consumer handles its batch (the saga's own commands among them)
   * would wait for that batch's commit before any subscriber could read it. With the advisory lock
   * the transaction takes an id only when it first writes, at the end of its batch.
   */
  private async lockedTransaction<T>(
    consumer: string,
    moveTo: number | undefined,
    work: (client: pg.PoolClient, checkpoint: LockedCheckpoint) => Promise<T>,
  ): Promise<T> {
    if (moveTo !== undefined && !Number.isSafeInteger(moveTo)) throw new Error(`not a position: ${moveTo}`);
    const client = await this.pool.connect();
    // The pool listens for a checked-out client's errors no longer: a session ended by the server
    // while the handler works elsewhere would otherwise be an uncaught error.
    let broken: Error | undefined;
    const onError = (error: Error): void => void (broken = error);
    client.on('error', onError);
    const committed: (() => void)[] = [];
    const name = client.escapeLiteral(consumer);
    try {
      // Three statements answer three results: the driver's types know only one. The checkpoint
      // is read after the lock is granted, in a statement of its own, so it is never an older
      // snapshot's.
      const opened: unknown = await client.query(
        `BEGIN; SELECT ${lockCheckpoint(name)};
         SELECT position::text, EXISTS (SELECT 1 FROM parked_events WHERE consumer = ${name}) AS any_parked
           FROM consumer_checkpoints WHERE consumer = ${name}`,
      );
      const locked = Array.isArray(opened)
        ? (opened[2] as pg.QueryResult<{ position: string; any_parked: boolean }>)
        : undefined;
      const row = locked?.rows[0];
      if (row === undefined)
        throw new Error(`consumer ${consumer} has no checkpoint row: it never took its lock`);
      const result = await work(client, {
        position: Number(row.position),
        anyParked: row.any_parked,
        afterCommit: (callback) => void committed.push(callback),
      });
      await client.query(
        moveTo === undefined
          ? 'COMMIT'
          : `UPDATE consumer_checkpoints SET position = ${moveTo}, updated_at = now() WHERE consumer = ${name};
             SELECT ${announceCheckpoint(name, String(moveTo))};
             COMMIT`,
      );
      for (const callback of committed) callback();
      return result;
    } catch (error) {
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onError);
      // A broken connection is closed, not handed back to the pool.
      client.release(broken);
    }
  }
}

/** The consumer's checkpoint, locked for the rest of the transaction, and whether any event is parked. */
interface LockedCheckpoint {
  position: number;
  anyParked: boolean;
  afterCommit: ConsumerTransaction['afterCommit'];
}

function toParkedEvent(row: ParkedRow): ParkedEvent {
  return {
    consumer: row.consumer,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: Number(row.position),
    eventId: row.event_id,
    error: row.error,
    attempts: row.attempts,
    parkedAt: row.parked_at,
  };
}
