import { type OrderEvent, type OrderLine, type OrderStatusCode } from '../../domain/order/order.js';
import { assertNever } from '../../domain/shared/assertNever.js';
import { categoryOfEventType } from '../../domain/shopEvents.js';
import type { Consumer, SqlQuery } from '../consumer.js';
import {
  type Column,
  type FoldedRow,
  foldRows,
  inCategory,
  type RowTable,
  schemaName,
  upsertRows,
} from '../foldRows.js';

export const SALES_PROJECTOR = 'sales';

/** The schema the shop serves sales from; a rebuild fills another, then takes this name. */
export const SALES_SCHEMA = 'sales';

interface SalesOrderRow extends FoldedRow {
  id: string;
  status: OrderStatusCode;
  /** The UTC day it was placed on. */
  placedOn: string;
  /** The UTC day its sale is counted on, while it counts as one. */
  soldOn: string | null;
  lines: readonly OrderLine[];
}

/** What a day's sales of one product move by. */
interface DailyChange {
  day: string;
  productId: string;
  productName: string;
  units: number;
  revenueCents: number;
}

const ORDER_COLUMNS: readonly Column[] = [
  { name: 'id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'status', type: 'text' },
  { name: 'placed_on', type: 'date' },
  { name: 'sold_on', type: 'date' },
  { name: 'lines', type: 'jsonb' },
];

/** The UTC day of an instant the shop recorded (ISO 8601, UTC). */
const dayOf = (instant: string): string => instant.slice(0, 10);

const changesOf = (row: SalesOrderRow, day: string, sign: 1 | -1): DailyChange[] =>
  row.lines.map((line) => ({
    day,
    productId: line.productId,
    productName: line.productName,
    units: sign * line.quantity,
    revenueCents: sign * line.quantity * line.unitPriceCents,
  }));

/**
 * The orders' table, telling `changed` how each applied event moves the days' sales: a
 * confirmation counts the order's lines on its day, a cancellation after it takes them back.
 */
function orderTable(schema: string, changed: DailyChange[]): RowTable<SalesOrderRow, OrderEvent> {
  return {
    keyOf: (event) => event.data.orderId,
    load: async (query, keys) => {
      const { rows } = await query<{
        id: string;
        revision: string;
        status: OrderStatusCode;
        placed_on: string;
        sold_on: string | null;
        lines: OrderLine[];
      }>(
        `SELECT id, revision, status, placed_on::text, sold_on::text, lines FROM ${schema}.orders
          WHERE id = ANY($1::uuid[])`,
        [keys],
      );
      return new Map(
        rows.map((row) => [
          row.id,
          {
            id: row.id,
            revision: Number(row.revision),
            status: row.status,
            placedOn: row.placed_on,
            soldOn: row.sold_on,
            lines: row.lines,
          },
        ]),
      );
    },
    apply: (row, event, revision) => {
      if (event.type === 'OrderPlaced') {
        const { orderId, items, placedAt } = event.data;
        return {
          id: orderId,
          revision,
          status: 'PENDING',
          placedOn: dayOf(placedAt),
          soldOn: null,
          lines: items,
        };
      }
      if (row === undefined) return undefined;
      switch (event.type) {
        case 'OrderConfirmed': {
          const soldOn = dayOf(event.data.at);
          changed.push(...changesOf(row, soldOn, 1));
          return { ...row, revision, status: 'CONFIRMED', soldOn };
        }
        case 'OrderCancelled':
          if (row.soldOn !== null) changed.push(...changesOf(row, row.soldOn, -1));
          return { ...row, revision, status: 'CANCELLED', soldOn: null };
        case 'OrderShipped':
          return { ...row, revision, status: 'SHIPPED' };
        case 'OrderDelivered':
          return { ...row, revision, status: 'DELIVERED' };
        default:
          return assertNever(event);
      }
    },
    save: (query, rows) =>
      upsertRows(
        query,
        `${schema}.orders`,
        'id',
        ORDER_COLUMNS,
        rows.map((row) => ({
          id: row.id,
          revision: row.revision,
          status: row.status,
          placed_on: row.placedOn,
          sold_on: row.soldOn,
          lines: row.lines,
        })),
      ),
  };
}

/** Adds the batch's changes to the days' sales, one row a day and product, in one statement. */
async function addToDays(query: SqlQuery, schema: string, changes: readonly DailyChange[]): Promise<void> {
  const summed = new Map<string, DailyChange>();
  for (const change of changes) {
    const key = `${change.day} ${change.productId}`;
    const sum = summed.get(key);
    summed.set(
      key,
      sum === undefined
        ? { ...change }
        : { ...sum, units: sum.units + change.units, revenueCents: sum.revenueCents + change.revenueCents },
    );
  }
  if (summed.size === 0) return;
  await query(
    `INSERT INTO ${schema}.daily AS d (day, product_id, product_name, units, revenue_cents)
     SELECT r.day, r.product_id, r.product_name, r.units, r.revenue_cents
       FROM jsonb_to_recordset($1::jsonb)
         AS r(day date, product_id uuid, product_name text, units bigint, revenue_cents bigint)
     ON CONFLICT (day, product_id) DO UPDATE SET units = d.units + EXCLUDED.units,
       revenue_cents = d.revenue_cents + EXCLUDED.revenue_cents`,
    [
      JSON.stringify(
        [...summed.values()].map((change) => ({
          day: change.day,
          product_id: change.productId,
          product_name: change.productName,
          units: change.units,
          revenue_cents: change.revenueCents,
        })),
      ),
    ],
  );
}

/** Keeps the sales' tables in `schema`: the orders as sales see them, and each day's sales. */
export function salesProjector(schema: string = SALES_SCHEMA): Consumer {
  const inSchema = schemaName(schema);
  return {
    name: SALES_PROJECTOR,
    // Lines, statuses and instants are all it keeps: no personal field needs opening.
    keepsPersonalDataSealed: true,
    wants: (event) => categoryOfEventType(event.type) === 'order',
    handle: async (events, tx) => {
      const changed: DailyChange[] = [];
      await foldRows(tx.query, orderTable(inSchema, changed), events.filter(inCategory<OrderEvent>('order')));
      await addToDays(tx.query, inSchema, changed);
    },
  };
}
