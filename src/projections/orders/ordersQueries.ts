import type { ExistingOrder, OrderStatusCode } from '../../domain/order/order.js';
import type { Payment } from '../../domain/payment/payment.js';
import type { SqlQuery } from '../consumer.js';
import { ORDERS_SCHEMA } from './ordersProjector.js';

export interface OrderFilter {
  /** A customer's orders only; every customer's when left out (an administrator's list). */
  userId?: string | undefined;
  status?: OrderStatusCode | undefined;
  page: number;
  size: number;
}

/** An order and its payment as their folds have them, personal fields still sealed. */
export interface ListedOrder {
  order: ExistingOrder;
  payment: Payment;
}

/** A page of orders, newest first (the id breaking ties), and how many match in all, in one statement. */
export async function listOrders(
  query: SqlQuery,
  filter: OrderFilter,
): Promise<{ items: ListedOrder[]; totalItems: number }> {
  const values: unknown[] = [filter.size, filter.page * filter.size];
  const parameter = (value: unknown): string => `$${values.push(value)}`;
  const conditions = [
    ...(filter.userId === undefined ? [] : [`o.user_id = ${parameter(filter.userId)}`]),
    ...(filter.status === undefined ? [] : [`o.status = ${parameter(filter.status)}`]),
  ];
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const { rows } = await query<{
    total: number;
    order_state: ExistingOrder | null;
    payment_state: Payment | null;
  }>(
    `SELECT t.total, page.order_state, page.payment_state
       FROM (SELECT count(*)::int AS total FROM ${ORDERS_SCHEMA}.orders o ${where}) t
       LEFT JOIN LATERAL (
         SELECT o.state AS order_state, p.state AS payment_state
           FROM ${ORDERS_SCHEMA}.orders o LEFT JOIN ${ORDERS_SCHEMA}.payments p ON p.order_id = o.id
           ${where}
          ORDER BY o.placed_at DESC, o.id DESC
          LIMIT $1 OFFSET $2) page ON true`,
    values,
  );
  const items = rows.flatMap((row): ListedOrder[] =>
    row.order_state === null
      ? []
      : [{ order: row.order_state, payment: row.payment_state ?? { status: 'Absent' } }],
  );
  return { items, totalItems: rows[0]?.total ?? 0 };
}
