import type { StoredEvent } from '../commands/storedEvents.js';
import { categoryOfEventType, type ShopEvent } from '../domain/shopEvents.js';
import type { SqlQuery } from './consumer.js';

/** A read-model row folded from one stream: `revision` is that stream's last event applied. */
export interface FoldedRow {
  revision: number;
}

/** How one table of a read model is kept: its rows by key, each folded from one stream's events. */
export interface RowTable<Row extends FoldedRow, Event> {
  /** The row an event belongs to. */
  keyOf(event: Event): string;
  load(query: SqlQuery, keys: readonly string[]): Promise<Map<string, Row>>;
  /** The row after the event; undefined leaves it out (an event for a row that does not exist). */
  apply(row: Row | undefined, event: Event, revision: number): Row | undefined;
  save(query: SqlQuery, rows: readonly Row[]): Promise<void>;
}

/**
 * Folds a batch's events into the rows they touch, in two statements whatever the batch's size:
 * the rows are read at once, moved on in memory, and written at once. An event at or below its
 * row's revision was applied before (the batch is handed over again after a crash) and is skipped.
 */
export async function foldRows<Row extends FoldedRow, Event>(
  query: SqlQuery,
  table: RowTable<Row, Event>,
  events: readonly { event: Event; revision: number }[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = await table.load(query, [...new Set(events.map(({ event }) => table.keyOf(event)))]);
  const changed = new Map<string, Row>();
  for (const { event, revision } of events) {
    const key = table.keyOf(event);
    const row = rows.get(key);
    if (row !== undefined && revision <= row.revision) continue;
    const next = table.apply(row, event, revision);
    if (next === undefined) continue;
    rows.set(key, next);
    changed.set(key, next);
  }
  if (changed.size > 0) await table.save(query, [...changed.values()]);
}

/** A schema's name as it goes into SQL: only the shop's own, lower-case names are accepted. */
export function schemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  return schema;
}

/** A column of a read-model table, as `upsertRows` writes it: its name and its SQL type. */
export interface Column {
  name: string;
  type: string;
}

/**
 * Writes rows in one statement, each a JSON object keyed by column name: new keys are inserted,
 * known ones updated, but never back to an older revision of their stream.
 */
export async function upsertRows(
  query: SqlQuery,
  table: string,
  key: string,
  columns: readonly Column[],
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const names = columns.map((column) => column.name);
  await query(
    `INSERT INTO ${table} AS t (${names.join(', ')})
     SELECT ${names.map((name) => `r.${name}`).join(', ')}
       FROM jsonb_to_recordset($1::jsonb) AS r(${columns.map((column) => `${column.name} ${column.type}`).join(', ')})
     ON CONFLICT (${key}) DO UPDATE SET ${names
       .filter((name) => name !== key)
       .map((name) => `${name} = EXCLUDED.${name}`)
       .join(', ')}
     WHERE t.revision < EXCLUDED.revision`,
    [JSON.stringify(rows)],
  );
}

/** The events of one stream category; decoding checked each type against its stream's category. */
export const inCategory =
  <Event extends ShopEvent>(category: string) =>
  (stored: StoredEvent): stored is StoredEvent<Event> =>
    categoryOfEventType(stored.event.type) === category;
