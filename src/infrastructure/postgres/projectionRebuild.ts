import type pg from 'pg';
import { decodeStoredEvent } from '../../commands/storedEvents.js';
import type { RecordedEvent } from '../../eventstore/eventStore.js';
import type { Consumer } from '../../projections/consumer.js';
import { schemaName } from '../../projections/foldRows.js';
import type { Projection } from '../../projections/projections.js';
import { type EventSource, openWanted } from '../../projections/subscriptionRunner.js';
import { announceCheckpoint } from './checkpointSignals.js';
import { sqlQueryOn } from './database.js';
import { lockCheckpoint } from './postgresConsumerStore.js';

/** A page of the rebuild: the runner's catch-up page, a transaction each. */
const REBUILD_PAGE = 2500;

export interface RebuildProgress {
  /** Events read so far, those the projector passed over included. */
  events: number;
  /** The position of the last of them. */
  position: number;
}

export interface RebuildOptions {
  pool: pg.Pool;
  source: Pick<EventSource, 'readAll' | 'revealAll'>;
  /** Rebuilt together: the store is read once, each page handed to each of their projectors. */
  projections: readonly Projection[];
  onProgress?: (progress: RebuildProgress) => void;
  /** Ends the rebuild between two pages, the served tables untouched (the shop stopping, say). */
  signal?: AbortSignal;
}

/** One rebuild at a time per database: another (`npm run replay`, or a shop starting) is running. */
export class RebuildInProgress extends Error {
  override readonly name = 'RebuildInProgress';
  constructor() {
    super('another rebuild of the read models is running on this database');
  }
}

/** The session lock that lets one rebuild run at a time, whoever started it. */
const REBUILD_LOCK = `hashtextextended('shop-rebuild', 0)`;

/**
 * Runs `rebuild` while holding the rebuild lock, on a connection of its own, so that two rebuilds
 * never fill the same copies; throws RebuildInProgress when another holds it.
 */
async function holdingTheRebuildLock<T>(pool: pg.Pool, rebuild: () => Promise<T>): Promise<T> {
  const lock = await pool.connect();
  try {
    const { rows } = await lock.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(${REBUILD_LOCK}) AS locked`,
    );
    if (rows[0]?.locked !== true) throw new RebuildInProgress();
    try {
      return await rebuild();
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(${REBUILD_LOCK})`);
    }
  } finally {
    lock.release();
  }
}

/** A read model being rebuilt: its served schema, its copy, the schema it retires, its projector. */
interface Rebuilding {
  projection: Projection;
  served: string;
  copy: string;
  retired: string;
  projector: Consumer;
  /** The copy's indexes but its keys, built once it has caught up: once is cheaper than row by row. */
  deferredIndexes: string[];
}

/**
 * Rebuilds read models from the first event while the served ones keep serving: each projector
 * fills a copy of its schema (`<schema>_rebuild`, its tables made LIKE the served ones, indexes
 * included), page after page; then one transaction takes the projectors' checkpoint locks (running
 * projectors wait), applies what came meanwhile, puts each copy in its served schema's place under
 * its name, and sets the checkpoints to where the copies are. Readers never find the tables
 * missing: renaming a schema takes no lock on its tables, and the old tables are dropped after,
 * once no reader uses them. A crash leaves the served schemas untouched; the next run starts over.
 */
export function rebuildProjections(options: RebuildOptions): Promise<RebuildProgress> {
  return holdingTheRebuildLock(options.pool, () => rebuild(options));
}

async function rebuild(options: RebuildOptions): Promise<RebuildProgress> {
  const { pool } = options;
  const rebuilding: Rebuilding[] = [];
  for (const projection of options.projections) {
    const served = schemaName(projection.schema);
    const copy = schemaName(`${projection.schema}_rebuild`);
    const retired = schemaName(`${projection.schema}_retired`);
    await pool.query(`DROP SCHEMA IF EXISTS ${copy} CASCADE; DROP SCHEMA IF EXISTS ${retired} CASCADE`);
    const { rows: tables } = await pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'
        ORDER BY table_name`,
      [served],
    );
    await pool.query(
      [
        `CREATE SCHEMA ${copy}`,
        ...tables.map(
          ({ table_name: table }) => `CREATE TABLE ${copy}.${table} (LIKE ${served}.${table} INCLUDING ALL)`,
        ),
      ].join('; '),
    );
    rebuilding.push({
      projection,
      served,
      copy,
      retired,
      projector: projection.projector(copy),
      deferredIndexes: await deferIndexes(pool, copy),
    });
  }
  const progress: RebuildProgress = { events: 0, position: -1 };
  const readPage = (from: number): Promise<RecordedEvent[]> => {
    const page = options.source.readAll({ fromPosition: from, maxCount: REBUILD_PAGE });
    // Read ahead: if handling the current page fails, nobody waits for this one.
    page.catch(() => undefined);
    return page;
  };
  const advance = (page: readonly RecordedEvent[]): void => {
    progress.events += page.length;
    progress.position = (page.at(-1) as RecordedEvent).position;
    options.onProgress?.({ ...progress });
  };

  // Catching up, each projector has a connection and a transaction a page of its own, so that the
  // server works on one while this process prepares another; the next page is read meanwhile.
  const connections = await Promise.all(rebuilding.map(() => pool.connect()));
  try {
    let next = readPage(0);
    for (;;) {
      const page = await next;
      options.signal?.throwIfAborted();
      if (page.length === 0) break;
      const full = page.length === REBUILD_PAGE;
      if (full) next = readPage((page.at(-1) as RecordedEvent).position + 1);
      await Promise.all(
        rebuilding.map(async ({ projector }, index) => {
          const connection = connections[index] as pg.PoolClient;
          await connection.query('BEGIN');
          await applyPage(connection, projector, options.source, page);
          await connection.query('COMMIT');
        }),
      );
      advance(page);
      if (!full) break;
    }
    await Promise.all(
      rebuilding.map(async ({ deferredIndexes }, index) => {
        for (const definition of deferredIndexes)
          await (connections[index] as pg.PoolClient).query(definition);
      }),
    );
  } catch (error) {
    await Promise.all(connections.map((connection) => connection.query('ROLLBACK').catch(() => undefined)));
    throw error;
  } finally {
    for (const connection of connections) connection.release();
  }

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const { projection } of rebuilding) {
      await client.query(`SELECT ${lockCheckpoint('$1')}`, [projection.name]);
    }
    // What came meanwhile, applied under the locks, in the swap's own transaction.
    for (let page = await readPage(progress.position + 1); page.length > 0;) {
      for (const { projector } of rebuilding) await applyPage(client, projector, options.source, page);
      advance(page);
      if (page.length < REBUILD_PAGE) break;
      page = await readPage(progress.position + 1);
    }
    for (const { projection, served, copy, retired } of rebuilding) {
      await client.query(
        `ALTER SCHEMA ${served} RENAME TO ${retired}; ALTER SCHEMA ${copy} RENAME TO ${served}`,
      );
      // The tables now hold every event up to where the copy got; what was parked for the
      // projector is applied in them, or the rebuild would have failed.
      // Announced like any move of the checkpoint: answers kept from the old tables are dropped
      // and GETs waiting for a position wake, in every instance.
      await client.query(
        `WITH moved AS (
           INSERT INTO consumer_checkpoints (consumer, position) VALUES ($1, $2)
           ON CONFLICT (consumer) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
           RETURNING consumer, position)
         SELECT ${announceCheckpoint('consumer', 'position')} FROM moved`,
        [projection.name, progress.position],
      );
      await client.query('DELETE FROM parked_events WHERE consumer = $1', [projection.name]);
      await client.query(
        `INSERT INTO projection_versions (name, version) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, built_at = now()`,
        [projection.name, projection.version],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  for (const { retired } of rebuilding) await pool.query(`DROP SCHEMA ${retired} CASCADE`);
  return progress;
}

/**
 * Drops the indexes of `schema`'s tables that no constraint needs (a key is what a row's upsert
 * finds it by), answering the statements that create them again.
 */
async function deferIndexes(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string; definition: string }>(
    `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
      WHERE i.schemaname = $1
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = $1::regnamespace)
      ORDER BY i.indexname`,
    [schema],
  );
  if (rows.length > 0) await pool.query(rows.map((row) => `DROP INDEX ${schema}.${row.name}`).join('; '));
  return rows.map((row) => row.definition);
}

async function applyPage(
  client: pg.PoolClient,
  projector: Consumer,
  source: Pick<EventSource, 'revealAll'>,
  page: readonly RecordedEvent[],
): Promise<void> {
  const opened = await openWanted(projector, source, page);
  if (opened.length === 0) return;
  await projector.handle(opened.map(decodeStoredEvent), {
    query: sqlQueryOn(client),
    afterCommit: () => undefined,
  });
}

/**
 * The projections whose read model was built by an older version of their projector. One the
 * table does not know yet was built by the code that runs now, from its first event: it is
 * recorded as such.
 */
export async function outdatedProjections(
  pool: pg.Pool,
  projections: readonly Projection[],
): Promise<Projection[]> {
  await pool.query(
    `INSERT INTO projection_versions (name, version)
     SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT (name) DO NOTHING`,
    [projections.map((projection) => projection.name), projections.map((projection) => projection.version)],
  );
  const { rows } = await pool.query<{ name: string; version: number }>(
    'SELECT name, version FROM projection_versions',
  );
  const built = new Map(rows.map((row) => [row.name, row.version]));
  return projections.filter(
    (projection) => (built.get(projection.name) ?? projection.version) < projection.version,
  );
}
