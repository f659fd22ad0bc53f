import type { CheckoutProcess, Deadline, DeadlineKind } from '../../domain/checkout/checkoutProcess.js';
import type { SqlQuery } from '../../projections/consumer.js';
import { derivedUuid } from '../derivedIds.js';

/** The channel that tells the deadline worker a deadline was recorded, so it looks at once. */
export const DEADLINES_CHANNEL = 'checkout_deadlines';

/** A deadline as it is stored, with what firing it has met so far. */
export interface StoredDeadline extends Deadline {
  orderId: string;
  correlationId: string;
  /** Whether a firing began before: a charge begun may have reached the provider. */
  started: boolean;
  failures: number;
}

/** The deadline's own id: what every command its firing sends derives its ids from. */
export const deadlineId = (deadline: Pick<StoredDeadline, 'orderId' | 'kind' | 'attempt'>): string =>
  derivedUuid('deadline', deadline.orderId, deadline.kind, String(deadline.attempt));

export async function loadProcesses(
  query: SqlQuery,
  orderIds: readonly string[],
): Promise<Map<string, CheckoutProcess>> {
  const { rows } = await query<{ order_id: string; state: CheckoutProcess }>(
    'SELECT order_id, state FROM checkout_processes WHERE order_id = ANY($1::text[])',
    [orderIds],
  );
  return new Map(rows.map((row) => [row.order_id, row.state]));
}

export interface DeadlineChange {
  orderId: string;
  correlationId: string;
  schedule?: Deadline;
  unschedule?: DeadlineKind;
}

/**
 * Writes the processes a batch moved on and its deadline changes in one statement, and tells the
 * deadline worker when it recorded one. Of several changes to one deadline of an order in one
 * batch, the last stands; a deadline of a kind the order has replaces it if its attempt is later.
 */
export async function saveCheckouts(
  query: SqlQuery,
  processes: ReadonlyMap<string, CheckoutProcess>,
  changes: readonly DeadlineChange[],
): Promise<void> {
  const last = new Map<string, DeadlineChange>();
  for (const change of changes) {
    const kind = change.schedule?.kind ?? change.unschedule;
    const key = `${change.orderId}:${String(kind)}`;
    last.delete(key);
    last.set(key, change);
  }
  const scheduled = [...last.values()].flatMap((change) =>
    change.schedule ? [{ ...change, ...change.schedule }] : [],
  );
  const unscheduled = [...last.values()].flatMap((change) =>
    change.unschedule ? [{ orderId: change.orderId, kind: change.unschedule }] : [],
  );
  if (processes.size === 0 && scheduled.length === 0 && unscheduled.length === 0) return;
  // The keys of `dropped` and `recorded` are apart (the last change of each stands), so the two
  // statements on checkout_deadlines never meet on a row.
  await query(
    `WITH saved AS (
       INSERT INTO checkout_processes (order_id, state, updated_at)
       SELECT order_id, state, now() FROM unnest($1::text[], $2::jsonb[]) AS saved (order_id, state)
       ON CONFLICT (order_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
     ), dropped AS (
       DELETE FROM checkout_deadlines AS deadline
        USING unnest($3::text[], $4::text[]) AS dropped (order_id, kind)
        WHERE deadline.order_id = dropped.order_id AND deadline.kind = dropped.kind
     ), recorded AS (
       INSERT INTO checkout_deadlines (order_id, kind, attempt, due_at, correlation_id)
       SELECT * FROM unnest($5::text[], $6::text[], $7::int[], $8::timestamptz[], $9::text[])
       ON CONFLICT (order_id, kind) DO UPDATE SET
         attempt = EXCLUDED.attempt, due_at = EXCLUDED.due_at, correlation_id = EXCLUDED.correlation_id,
         started_at = NULL, failures = 0, last_error = NULL, parked_at = NULL
       WHERE checkout_deadlines.attempt < EXCLUDED.attempt
     )
     SELECT pg_notify($10, '') WHERE cardinality($5::text[]) > 0`,
    [
      [...processes.keys()],
      [...processes.values()].map((state) => JSON.stringify(state)),
      unscheduled.map((change) => change.orderId),
      unscheduled.map((change) => change.kind),
      scheduled.map((deadline) => deadline.orderId),
      scheduled.map((deadline) => deadline.kind),
      scheduled.map((deadline) => deadline.attempt),
      scheduled.map((deadline) => deadline.dueAt),
      scheduled.map((deadline) => deadline.correlationId),
      DEADLINES_CHANNEL,
    ],
  );
}

interface DeadlineRow {
  order_id: string;
  kind: DeadlineKind;
  attempt: number;
  due_at: Date;
  correlation_id: string;
  started_at: Date | null;
  failures: number;
}

const storedDeadline = (row: DeadlineRow): StoredDeadline => ({
  orderId: row.order_id,
  kind: row.kind,
  attempt: row.attempt,
  dueAt: row.due_at.toISOString(),
  correlationId: row.correlation_id,
  started: row.started_at !== null,
  failures: row.failures,
});

/** What the deadline worker has to do: the deadlines due now, and when the next one will be. */
export interface DueDeadlines {
  /** Due by `now`, earliest first, up to the limit, but those being fired already. */
  due: StoredDeadline[];
  /** When the earliest deadline due after `now` is; undefined when none waits. */
  nextDueAt: Date | undefined;
}

/** One statement a wake-up: the worker asks it after every notification and every firing. */
export async function dueDeadlines(
  query: SqlQuery,
  now: Date,
  limit: number,
  firing: readonly string[],
): Promise<DueDeadlines> {
  const { rows } = await query<Partial<DeadlineRow> & { next_due_at: Date | null }>(
    `WITH next AS (
       SELECT min(due_at) AS next_due_at FROM checkout_deadlines WHERE parked_at IS NULL AND due_at > $1)
     SELECT next.next_due_at, due.* FROM next LEFT JOIN LATERAL (
       SELECT order_id, kind, attempt, due_at, correlation_id, started_at, failures FROM checkout_deadlines
        WHERE parked_at IS NULL AND due_at <= $1 AND NOT (order_id || ':' || kind = ANY($2::text[]))
        ORDER BY due_at LIMIT $3) due ON true`,
    [now, firing, limit],
  );
  return {
    due: rows
      .filter((row): row is DeadlineRow & { next_due_at: Date | null } => row.order_id != null)
      .map(storedDeadline),
    nextDueAt: rows[0]?.next_due_at ?? undefined,
  };
}

export const firingKey = (deadline: Pick<StoredDeadline, 'orderId' | 'kind'>): string =>
  `${deadline.orderId}:${deadline.kind}`;

const SAME_DEADLINE = 'order_id = $1 AND kind = $2 AND attempt = $3';
const keyOf = (deadline: StoredDeadline) => [deadline.orderId, deadline.kind, deadline.attempt];

export async function markStarted(query: SqlQuery, deadline: StoredDeadline): Promise<void> {
  await query(`UPDATE checkout_deadlines SET started_at = now() WHERE ${SAME_DEADLINE}`, keyOf(deadline));
}

/** Fired: gone, unless the process replaced it by a later one meanwhile. */
export async function deadlineFired(query: SqlQuery, deadline: StoredDeadline): Promise<void> {
  await query(`DELETE FROM checkout_deadlines WHERE ${SAME_DEADLINE}`, keyOf(deadline));
}

/** Firing failed: tried again at `retryAt`, or parked for an operator when `retryAt` is undefined. */
export async function deadlineFailed(
  query: SqlQuery,
  deadline: StoredDeadline,
  error: string,
  retryAt: Date | undefined,
): Promise<void> {
  await query(
    `UPDATE checkout_deadlines SET failures = failures + 1, last_error = $4,
       due_at = coalesce($5, due_at), parked_at = CASE WHEN $5::timestamptz IS NULL THEN now() END
     WHERE ${SAME_DEADLINE}`,
    [...keyOf(deadline), error, retryAt ?? null],
  );
}

export interface DeadlineCounts {
  pending: number;
  parked: number;
}

export async function deadlineCounts(query: SqlQuery): Promise<DeadlineCounts> {
  const { rows } = await query<{ pending: string; parked: string }>(
    `SELECT count(*) FILTER (WHERE parked_at IS NULL) AS pending, count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked
     FROM checkout_deadlines`,
  );
  return { pending: Number(rows[0]?.pending ?? 0), parked: Number(rows[0]?.parked ?? 0) };
}
