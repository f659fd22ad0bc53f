import {
  evolve as evolveOrder,
  type ExistingOrder,
  type OrderEvent,
  orderStatusCode,
} from '../../domain/order/order.js';
import { evolve as evolvePayment, type Payment, type PaymentEvent } from '../../domain/payment/payment.js';
import { categoryOfEventType } from '../../domain/shopEvents.js';
import type { Consumer } from '../consumer.js';
import {
  type Column,
  type FoldedRow,
  foldRows,
  type RowTable,
  inCategory,
  schemaName,
  upsertRows,
} from '../foldRows.js';

export const ORDERS_PROJECTOR = 'orders';

/** The schema the shop serves orders from; a rebuild fills another, then takes this name. */
export const ORDERS_SCHEMA = 'orders';

/**
 * An order as its own fold has it. Its personal fields hold what the events hold, sealed values:
 * the projector takes events unopened, and the query opens what it answers.
 */
interface OrderRow extends FoldedRow {
  state: ExistingOrder;
}

interface PaymentRow extends FoldedRow {
  orderId: string;
  state: Payment;
}

const ORDER_COLUMNS: readonly Column[] = [
  { name: 'id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'user_id', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'placed_at', type: 'timestamptz' },
  { name: 'state', type: 'jsonb' },
];

const PAYMENT_COLUMNS: readonly Column[] = [
  { name: 'order_id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'state', type: 'jsonb' },
];

function orderTable(schema: string): RowTable<OrderRow, OrderEvent> {
  return {
    keyOf: (event) => event.data.orderId,
    load: async (query, keys) => {
      const { rows } = await query<{ id: string; revision: string; state: ExistingOrder }>(
        `SELECT id, revision, state FROM ${schema}.orders WHERE id = ANY($1::uuid[])`,
        [keys],
      );
      return new Map(rows.map((row) => [row.id, { revision: Number(row.revision), state: row.state }]));
    },
    apply: (row, event, revision) => {
      const next = evolveOrder(row?.state ?? { status: 'Absent' }, event);
      return next.status === 'Absent' ? undefined : { revision, state: next };
    },
    save: (query, rows) =>
      upsertRows(
        query,
        `${schema}.orders`,
        'id',
        ORDER_COLUMNS,
        rows.map(({ revision, state }) => ({
          id: state.id,
          revision,
          user_id: state.userId,
          status: orderStatusCode(state.status),
          placed_at: state.placedAt,
          state,
        })),
      ),
  };
}

function paymentTable(schema: string): RowTable<PaymentRow, PaymentEvent> {
  return {
    keyOf: (event) => event.data.orderId,
    load: async (query, keys) => {
      const { rows } = await query<{ order_id: string; revision: string; state: Payment }>(
        `SELECT order_id, revision, state FROM ${schema}.payments WHERE order_id = ANY($1::uuid[])`,
        [keys],
      );
      return new Map(
        rows.map((row) => [
          row.order_id,
          { orderId: row.order_id, revision: Number(row.revision), state: row.state },
        ]),
      );
    },
    apply: (row, event, revision) => ({
      orderId: event.data.orderId,
      revision,
      state: evolvePayment(row?.state ?? { status: 'Absent' }, event),
    }),
    save: (query, rows) =>
      upsertRows(
        query,
        `${schema}.payments`,
        'order_id',
        PAYMENT_COLUMNS,
        rows.map(({ orderId, revision, state }) => ({ order_id: orderId, revision, state })),
      ),
  };
}

const ORDER_CATEGORIES = new Set(['order', 'payment']);

/** Keeps the orders' tables in `schema`: every order, and the payment of each. */
export function ordersProjector(schema: string = ORDERS_SCHEMA): Consumer {
  const tables = { orders: orderTable(schemaName(schema)), payments: paymentTable(schemaName(schema)) };
  return {
    name: ORDERS_PROJECTOR,
    keepsPersonalDataSealed: true,
    wants: (event) => ORDER_CATEGORIES.has(categoryOfEventType(event.type) ?? ''),
    handle: async (events, tx) => {
      await foldRows(tx.query, tables.orders, events.filter(inCategory<OrderEvent>('order')));
      await foldRows(tx.query, tables.payments, events.filter(inCategory<PaymentEvent>('payment')));
    },
  };
}
