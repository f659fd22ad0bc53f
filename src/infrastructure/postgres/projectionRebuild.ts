import type pg from 'pg';
import { decodeStoredEvent } from '../../commands/storedEvents.js';
import type { RecordedEvent } from '../../eventstore/eventStore.js';
import type { Consumer } from '../../projections/consumer.js';
import { schemaName } from '../../projections/foldRows.js';
import type { Projection } from '../../projections/projections.js';
import type { EventSource } from '../../projections/subscriptionRunner.js';
import { sqlQueryOn } from './database.js';

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
  projection: Projection;
  onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Rebuilds a read model from the first event while the served one keeps serving: the projector
 * fills a copy of the schema (`<schema>_rebuild`, its tables made LIKE the served ones, indexes
 * included), page after page; then one transaction takes the projector's checkpoint lock (the
 * running projector waits), applies what came meanwhile, puts the copy in the served schema's place
 * under its name, and sets the checkpoint to where the copy is. Readers never find the tables
 * missing: renaming a schema takes no lock on its tables, and the old tables are dropped after, once
 * no reader uses them. A crash leaves the served schema untouched; the next run starts over.
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildProgress> {
  const { pool, projection } = options;
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
  const projector = projection.projector(copy);
  const progress: RebuildProgress = { events: 0, position: -1 };
  const applyPages = async (client: pg.PoolClient, inTransaction: boolean): Promise<void> => {
    for (;;) {
      const page = await options.source.readAll({
        fromPosition: progress.position + 1,
        maxCount: REBUILD_PAGE,
      });
      if (page.length === 0) return;
      if (!inTransaction) await client.query('BEGIN');
      await applyPage(client, projector, options.source, page);
      if (!inTransaction) await client.query('COMMIT');
      progress.events += page.length;
      progress.position = (page.at(-1) as RecordedEvent).position;
      options.onProgress?.({ ...progress });
      if (page.length < REBUILD_PAGE) return;
    }
  };

  const client = await pool.connect();
  try {
    await applyPages(client, false);
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('shop-checkpoint:' || $1, 0))`, [
      projection.name,
    ]);
    await applyPages(client, true);
    await client.query(
      `ALTER SCHEMA ${served} RENAME TO ${retired}; ALTER SCHEMA ${copy} RENAME TO ${served}`,
    );
    // The tables now hold every event up to where the copy got; what was parked for the projector
    // is applied in them, or the rebuild would have failed.
    await client.query(
      `INSERT INTO consumer_checkpoints (consumer, position) VALUES ($1, $2)
       ON CONFLICT (consumer) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
      [projection.name, progress.position],
    );
    await client.query('DELETE FROM parked_events WHERE consumer = $1', [projection.name]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  await pool.query(`DROP SCHEMA ${retired} CASCADE`);
  return progress;
}

async function applyPage(
  client: pg.PoolClient,
  projector: Consumer,
  source: Pick<EventSource, 'revealAll'>,
  page: readonly RecordedEvent[],
): Promise<void> {
  const wanted = page.filter((event) => projector.wants?.(event) ?? true);
  if (wanted.length === 0) return;
  const opened = projector.keepsPersonalDataSealed === true ? wanted : await source.revealAll(wanted);
  await projector.handle(opened.map(decodeStoredEvent), {
    query: sqlQueryOn(client),
    afterCommit: () => undefined,
  });
}
