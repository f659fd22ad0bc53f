import { type Request, type RequestHandler, Router } from 'express';
import { withCardTokensMasked } from '../../domain/personalData.js';
import type { ReadAllOptions, RecordedEvent } from '../../eventstore/eventStore.js';
import { oneOfParameter, queryOf, wholeNumberParameter } from '../queryParameters.js';

/** The stream prefixes of the shop: `order` selects the `order-<id>` streams. */
export const STREAM_CATEGORIES = ['category', 'product', 'inventory', 'cart', 'order', 'payment'] as const;
export const EXPORT_DEFAULT_LIMIT = 1000;
export const EXPORT_MAX_LIMIT = 10_000;
const QUERY_PARAMETERS = ['fromPosition', 'limit', 'category'];

export interface EventExportDependencies {
  /** All events in position order, personal data opened (EventCodec.readAll). */
  readAll: (options: ReadAllOptions) => Promise<RecordedEvent[]>;
  analystsAndAdmins: RequestHandler[];
}

function exportOptions(request: Request): ReadAllOptions {
  const query = queryOf(request, QUERY_PARAMETERS);
  const category = oneOfParameter(query, 'category', STREAM_CATEGORIES);
  return {
    fromPosition: wholeNumberParameter(query, 'fromPosition', 0, 0, Number.MAX_SAFE_INTEGER),
    maxCount: wholeNumberParameter(query, 'limit', EXPORT_DEFAULT_LIMIT, 1, EXPORT_MAX_LIMIT),
    ...(category === undefined ? {} : { category }),
  };
}

/**
 * One line of the export: the event as analysts get it, in JSON, newline-terminated. Card tokens
 * show masked: the export leaves the shop, a credential in it would too.
 */
export function exportedLine({
  position,
  streamId,
  revision,
  type,
  data,
  metadata,
  recordedAt,
}: RecordedEvent): string {
  const shown = withCardTokensMasked(type, data);
  return `${JSON.stringify({ position, streamId, revision, type, data: shown, metadata, recordedAt })}\n`;
}

/**
 * What analysts replay: events in global order as NDJSON, one a line, from a position on. A page
 * ends at `limit` events; the next starts after the last line's position.
 */
export function eventExportRoutes({ readAll, analystsAndAdmins }: EventExportDependencies): Router {
  const router = Router();

  router.get('/api/v1/events', ...analystsAndAdmins, async (request, response) => {
    const events = await readAll(exportOptions(request));
    response.type('application/x-ndjson');
    response.send(events.map(exportedLine).join(''));
  });

  return router;
}
