import { type Request, type RequestHandler, Router } from 'express';
import { type DomainEvent, fold } from '../../domain/shared/decider.js';
import { orderDecider } from '../../domain/order/order.decide.js';
import { type OrderEvent, orderStreamId } from '../../domain/order/order.js';
import { paymentDecider } from '../../domain/payment/payment.decide.js';
import { type PaymentEvent, paymentStreamId } from '../../domain/payment/payment.js';
import { withCardTokensMasked } from '../../domain/personalData.js';
import { NotFound, ValidationError } from '../../domain/shared/errors.js';
import type { RecordedEvent, StreamVerification } from '../../eventstore/eventStore.js';
import { orderView } from '../orders/orderView.js';
import { parseInstant } from '../http.js';
import { pathId } from '../pathIds.js';

export interface AuditDependencies {
  /** A stream's events with their metadata and hashes, personal data opened (EventCodec.readStream). */
  readStream: (streamId: string) => Promise<RecordedEvent[]>;
  /** Recomputes the stream's hash chain over what is stored. */
  verifyStream: (streamId: string) => Promise<StreamVerification>;
  auditorsAndAdmins: RequestHandler[];
}

function asOfParameter(request: Request): Date | undefined {
  const asOf = request.query.asOf;
  if (asOf === undefined) return undefined;
  const instant = typeof asOf === 'string' ? parseInstant(asOf) : undefined;
  if (!instant) {
    throw new ValidationError(
      'asOf',
      'must be an ISO 8601 date and time with an offset, e.g. 2026-03-01T10:00:00Z',
    );
  }
  return instant;
}

/**
 * A stream's events up to the first one recorded after `asOf`: a prefix, so that what is folded is
 * a state the stream really had, even if clocks of different writers disagreed.
 */
function recordedBy(events: readonly RecordedEvent[], asOf: Date): RecordedEvent[] {
  const later = events.findIndex((event) => event.recordedAt > asOf);
  return later === -1 ? [...events] : events.slice(0, later);
}

const domainEvent = ({ type, data }: RecordedEvent): DomainEvent => ({ type, data });

/** An event as auditors see it: card tokens masked, the hashes still those of what is stored. */
function historyEntry(event: RecordedEvent) {
  const { actor, correlationId, causationId, requestId } = event.metadata;
  return {
    revision: event.revision,
    position: event.position,
    type: event.type,
    data: withCardTokensMasked(event.type, event.data),
    metadata: { actor, correlationId, causationId, ...(requestId === undefined ? {} : { requestId }) },
    recordedAt: event.recordedAt.toISOString(),
    hash: event.hash,
    previousHash: event.previousHash,
  };
}

/**
 * What auditors read: an order's history straight from the event store, with the verdict of its
 * hash chain, and the order as it stood at an instant, folded from the events recorded by then.
 * Never from a read model, so nothing between the events and the answer can have changed them.
 */
export function auditRoutes({ readStream, verifyStream, auditorsAndAdmins }: AuditDependencies): Router {
  const router = Router();

  router.get('/api/v1/audit/orders/:orderId', ...auditorsAndAdmins, async (request, response) => {
    const orderId = pathId(request, 'orderId', 'order');
    const asOf = asOfParameter(request);
    const streamId = orderStreamId(orderId);
    const events = await readStream(streamId);
    if (events.length === 0) throw new NotFound('order', orderId);

    if (asOf === undefined) {
      // Verified after the read, it may cover events appended since: judge the ones listed.
      const verification = await verifyStream(streamId);
      const verified = verification.verified || (verification.brokenAtRevision ?? 0) >= events.length;
      response.json({ streamId, events: events.map(historyEntry), verified });
      return;
    }
    const order = fold(orderDecider, recordedBy(events, asOf).map(domainEvent) as OrderEvent[]);
    if (order.status === 'Absent') throw new NotFound('order', orderId);
    const paymentEvents = recordedBy(await readStream(paymentStreamId(orderId)), asOf);
    response.json(orderView(order, fold(paymentDecider, paymentEvents.map(domainEvent) as PaymentEvent[])));
  });

  return router;
}
