import { type RequestHandler, Router } from 'express';
import { ValidationError } from '../../domain/shared/errors.js';
import { formatMoney } from '../../domain/shared/money.js';
import type { SqlQuery } from '../../projections/consumer.js';
import { salesReport } from '../../projections/sales/salesQueries.js';
import { dayParameter, queryOf } from '../queryParameters.js';

/** API.md: a range over 366 days is a 400; a leap year's days, both ends included, are not over. */
export const SALES_RANGE_MAX_DAYS = 366;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface AnalyticsDependencies {
  /** Statements on the sales read model. */
  readModel: SqlQuery;
  analystsAndAdmins: RequestHandler[];
}

export function analyticsRoutes({ readModel, analystsAndAdmins }: AnalyticsDependencies): Router {
  const router = Router();

  router.get('/api/v1/analytics/sales', ...analystsAndAdmins, async (request, response) => {
    const query = queryOf(request, ['from', 'to']);
    const from = dayParameter(query, 'from');
    const to = dayParameter(query, 'to');
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days < 1) throw new ValidationError('to', 'must not be before from');
    if (days > SALES_RANGE_MAX_DAYS) {
      throw new ValidationError(
        'to',
        `must be at most ${SALES_RANGE_MAX_DAYS} days from from, both included`,
      );
    }
    const report = await salesReport(readModel, from, to);
    response.json({
      days: report.days.map((day) => ({
        date: day.date,
        productId: day.productId,
        productName: day.productName,
        units: day.units,
        revenue: formatMoney(day.revenueCents),
      })),
      ordersByStatus: report.ordersByStatus,
    });
  });

  return router;
}
