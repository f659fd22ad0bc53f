import { ORDER_STATUS_CODES, type OrderStatusCode } from '../../domain/order/order.js';
import type { SqlQuery } from '../consumer.js';
import { SALES_SCHEMA } from './salesProjector.js';

export interface DaySales {
  /** YYYY-MM-DD, UTC. */
  date: string;
  productId: string;
  productName: string;
  units: number;
  revenueCents: number;
}

export interface SalesReport {
  days: DaySales[];
  /** The orders placed in the range, by their status now. */
  ordersByStatus: Record<OrderStatusCode, number>;
}

/** Sales from `from` to `to` (UTC days, both included): by day, then product name. */
export async function salesReport(query: SqlQuery, from: string, to: string): Promise<SalesReport> {
  const days = await query<{
    day: string;
    product_id: string;
    product_name: string;
    units: string;
    revenue_cents: string;
  }>(
    // A day whose sales were all taken back by cancellations sold nothing.
    `SELECT day::text, product_id, product_name, units, revenue_cents FROM ${SALES_SCHEMA}.daily
      WHERE day BETWEEN $1 AND $2 AND units <> 0 ORDER BY day, product_name, product_id`,
    [from, to],
  );
  const statuses = await query<{ status: OrderStatusCode; orders: number }>(
    `SELECT status, count(*)::int AS orders FROM ${SALES_SCHEMA}.orders
      WHERE placed_on BETWEEN $1 AND $2 GROUP BY status`,
    [from, to],
  );
  const ordersByStatus = Object.fromEntries(ORDER_STATUS_CODES.map((status) => [status, 0])) as Record<
    OrderStatusCode,
    number
  >;
  for (const row of statuses.rows) ordersByStatus[row.status] = row.orders;
  return {
    days: days.rows.map((row) => ({
      date: row.day,
      productId: row.product_id,
      productName: row.product_name,
      units: Number(row.units),
      revenueCents: Number(row.revenue_cents),
    })),
    ordersByStatus,
  };
}
