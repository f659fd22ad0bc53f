import type pg from 'pg';

/** What the run did, as its customers know it. */
export interface PlacedOrder {
  orderId: string;
  customer: string;
  token: string;
  lines: readonly { productId: string; quantity: number }[];
  /** The customer's cancellation: none asked (or none answered yet), answered 202, answered 409. */
  cancel: 'none' | 'accepted' | 'refused';
}

export interface OrderView {
  status: string;
  paymentStatus: string;
  cancellationReason: string | undefined;
}

export interface InventoryView {
  onHand: number;
  reserved: number;
  available: number;
}

export interface RunRecord {
  orders: ReadonlyMap<string, PlacedOrder>;
  productIds: readonly string[];
  /** GET /api/v1/orders/{id} and GET /api/v1/inventory/{productId} once everything settled. */
  orderViews: ReadonlyMap<string, OrderView>;
  inventoryViews: ReadonlyMap<string, InventoryView>;
}

export interface CheckResult {
  name: string;
  /** What was looked at, with counts. */
  summary: string;
  violations: string[];
  /** Worth knowing, not a broken invariant. */
  notes: string[];
}

export interface Outcomes {
  /** "CONFIRMED", or "CANCELLED <reason>", or "PENDING": the order's last word in its stream. */
  byOutcome: Map<string, number>;
  /** Per card token, the same. */
  byToken: Map<string, Map<string, number>>;
  confirmedThenCancelled: number;
  /** From placed to the first outcome, of every order that has one, shortest first. */
  outcomeAfterMs: number[];
}

/** The names of the checks, in the order they run: the e2e test looks for each in the output. */
export const CHECK_NAMES = [
  'orders placed once',
  'one terminal outcome per order',
  'no payment captured twice',
  'no cancelled order left charged',
  'confirmed orders paid, never refunded',
  'outcomes fit card tokens',
  'stock balances',
  'available never negative',
  'nothing parked',
  'API agrees with the event store',
] as const;

interface EventRow {
  stream_id: string;
  revision: string;
  type: string;
  data: Record<string, unknown>;
  recorded_at: Date;
}

type OrderStatus = 'Pending' | 'Confirmed' | 'Cancelled' | 'Shipped' | 'Delivered';

interface OrderFacts {
  placements: number;
  items: { productId: string; quantity: number }[];
  confirmedAt: number[];
  cancelled: { revision: number; reason: string }[];
  status: OrderStatus;
  reason: string | undefined;
  /** From OrderPlaced to the first outcome, when there is one. */
  outcomeAfterMs: number | undefined;
}

type PaymentStatus = 'Absent' | 'Requested' | 'Captured' | 'Declined' | 'Failed' | 'Refunded';

interface PaymentFacts {
  requests: number;
  amountCents: number;
  captures: number[];
  answers: string[];
  attempts: number[];
  refundedCents: number;
  status: PaymentStatus;
}

interface Holding {
  reserved: number;
  committed: number;
  rejected: boolean;
}

interface ProductFacts {
  restocked: number;
  onHand: number;
  /** Per order: what is held now. */
  reserved: Map<string, number>;
  committed: Map<string, number>;
  /** The first prefix of the stream with available below 0, if any. */
  negativeAt: { revision: number; available: number; onHand: number }[];
  events: number;
}

const ORDER_CODES: Record<OrderStatus, string> = {
  Pending: 'PENDING',
  Confirmed: 'CONFIRMED',
  Cancelled: 'CANCELLED',
  Shipped: 'SHIPPED',
  Delivered: 'DELIVERED',
};

const PAYMENT_CODES: Record<PaymentStatus, string> = {
  Absent: 'PENDING',
  Requested: 'PENDING',
  Captured: 'CAPTURED',
  Declined: 'DECLINED',
  Failed: 'FAILED',
  Refunded: 'REFUNDED',
};

/** API.md: a charge the provider errs on is tried again three times. */
const PAYMENT_ATTEMPTS = 4;

const afterDash = (streamId: string): string => streamId.slice(streamId.indexOf('-') + 1);
const num = (value: unknown): number => Number(value);
const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const linesKey = (lines: readonly { productId: string; quantity: number }[]): string =>
  lines
    .map((line) => `${line.productId}x${line.quantity}`)
    .sort()
    .join(',');

async function eventsOf(client: pg.ClientBase, category: string): Promise<Map<string, EventRow[]>> {
  const { rows } = await client.query<EventRow>(
    'SELECT stream_id, revision, type, data, recorded_at FROM es_events WHERE category = $1 ORDER BY stream_id, revision',
    [category],
  );
  const streams = new Map<string, EventRow[]>();
  for (const row of rows) {
    const stream = streams.get(row.stream_id);
    if (stream) stream.push(row);
    else streams.set(row.stream_id, [row]);
  }
  return streams;
}

function foldOrder(events: readonly EventRow[]): OrderFacts {
  const facts: OrderFacts = {
    placements: 0,
    items: [],
    confirmedAt: [],
    cancelled: [],
    status: 'Pending',
    reason: undefined,
    outcomeAfterMs: undefined,
  };
  let placedAt: number | undefined;
  for (const event of events) {
    const revision = num(event.revision);
    if (event.type === 'OrderPlaced') placedAt ??= event.recorded_at.getTime();
    if ((event.type === 'OrderConfirmed' || event.type === 'OrderCancelled') && placedAt !== undefined) {
      facts.outcomeAfterMs ??= event.recorded_at.getTime() - placedAt;
    }
    switch (event.type) {
      case 'OrderPlaced':
        facts.placements += 1;
        facts.items = (event.data.items as { productId: string; quantity: number }[]).map((item) => ({
          productId: item.productId,
          quantity: item.quantity,
        }));
        break;
      case 'OrderConfirmed':
        facts.confirmedAt.push(revision);
        facts.status = 'Confirmed';
        break;
      case 'OrderCancelled':
        facts.cancelled.push({ revision, reason: str(event.data.reason) });
        facts.status = 'Cancelled';
        facts.reason = str(event.data.reason);
        break;
      case 'OrderShipped':
        facts.status = 'Shipped';
        break;
      case 'OrderDelivered':
        facts.status = 'Delivered';
        break;
    }
  }
  return facts;
}

function foldPayment(events: readonly EventRow[]): PaymentFacts {
  const facts: PaymentFacts = {
    requests: 0,
    amountCents: 0,
    captures: [],
    answers: [],
    attempts: [],
    refundedCents: 0,
    status: 'Absent',
  };
  for (const event of events) {
    switch (event.type) {
      case 'PaymentRequested':
        facts.requests += 1;
        facts.amountCents = num(event.data.amountCents);
        if (facts.status === 'Absent') facts.status = 'Requested';
        break;
      case 'PaymentAttemptFailed':
        facts.attempts.push(num(event.data.attempt));
        break;
      case 'PaymentCaptured':
        facts.captures.push(num(event.data.amountCents));
        facts.answers.push(event.type);
        facts.status = 'Captured';
        break;
      case 'PaymentDeclined':
        facts.answers.push(event.type);
        facts.status = 'Declined';
        break;
      case 'PaymentFailed':
        facts.answers.push(event.type);
        facts.status = 'Failed';
        break;
      case 'PaymentRefunded':
        facts.refundedCents = num(event.data.refundedCents);
        if (facts.refundedCents >= facts.amountCents) facts.status = 'Refunded';
        break;
    }
  }
  return facts;
}

function foldInventory(events: readonly EventRow[]): ProductFacts {
  const facts: ProductFacts = {
    restocked: 0,
    onHand: 0,
    reserved: new Map(),
    committed: new Map(),
    negativeAt: [],
    events: events.length,
  };
  for (const event of events) {
    const orderId = str(event.data.orderId);
    const quantity = num(event.data.quantity);
    switch (event.type) {
      case 'StockRestocked':
        facts.restocked += quantity;
        facts.onHand += quantity;
        break;
      case 'StockReserved':
        facts.reserved.set(orderId, quantity);
        break;
      case 'ReservationReleased':
        facts.reserved.delete(orderId);
        break;
      case 'ReservationCommitted':
        facts.reserved.delete(orderId);
        facts.committed.set(orderId, quantity);
        facts.onHand -= quantity;
        break;
      case 'StockReturned':
        facts.committed.delete(orderId);
        facts.onHand += quantity;
        break;
    }
    const available = facts.onHand - sum(facts.reserved.values());
    if (available < 0 || facts.onHand < 0) {
      facts.negativeAt.push({ revision: num(event.revision), available, onHand: facts.onHand });
    }
  }
  return facts;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

const outcomeOf = (facts: OrderFacts | undefined): string =>
  !facts
    ? 'MISSING'
    : facts.status === 'Cancelled'
      ? `CANCELLED ${facts.reason ?? '?'}`
      : ORDER_CODES[facts.status];

/**
 * Every check of the run, on the event store itself (es_events, the simulator's ledger, the saga's
 * tables), with the API's answers compared against it last.
 */
export async function checkEventStore(
  client: pg.ClientBase,
  run: RunRecord,
): Promise<{ checks: CheckResult[]; outcomes: Outcomes }> {
  const orderStreams = await eventsOf(client, 'order');
  const paymentStreams = await eventsOf(client, 'payment');
  const inventoryStreams = await eventsOf(client, 'inventory');
  const { rows: checkouts } = await client.query<{ order_id: string; count: string }>(
    `SELECT data->>'orderId' AS order_id, count(*) FROM es_events
     WHERE category = 'cart' AND type = 'CartCheckedOut' GROUP BY 1`,
  );
  const { rows: ledger } = await client.query<{
    idempotency_key: string;
    rows: number;
    outcomes: string[];
    amount_cents: string;
  }>(
    `SELECT idempotency_key, count(*)::int AS rows, array_agg(outcome) AS outcomes, max(amount_cents) AS amount_cents
     FROM payment_simulator_charges GROUP BY idempotency_key`,
  );
  const { rows: parkedEvents } = await client.query<{ consumer: string; stream_id: string; error: string }>(
    'SELECT consumer, stream_id, error FROM parked_events ORDER BY position',
  );
  const { rows: deadlines } = await client.query<{
    order_id: string;
    kind: string;
    attempt: number;
    parked: boolean;
    last_error: string | null;
  }>(
    `SELECT order_id, kind, attempt, parked_at IS NOT NULL AS parked, last_error FROM checkout_deadlines
     ORDER BY order_id, kind`,
  );

  const orders = new Map(
    [...orderStreams].map(([streamId, events]) => [afterDash(streamId), foldOrder(events)]),
  );
  const payments = new Map(
    [...paymentStreams].map(([streamId, events]) => [afterDash(streamId), foldPayment(events)]),
  );
  const products = new Map(
    [...inventoryStreams].map(([streamId, events]) => [afterDash(streamId), foldInventory(events)]),
  );
  const holdings = new Map<string, Map<string, Holding>>();
  for (const [, events] of inventoryStreams) {
    for (const event of events) {
      if (event.type === 'StockRestocked') continue;
      const orderId = str(event.data.orderId);
      const productId = str(event.data.productId);
      const perProduct = holdings.get(orderId) ?? new Map<string, Holding>();
      holdings.set(orderId, perProduct);
      const holding = perProduct.get(productId) ?? { reserved: 0, committed: 0, rejected: false };
      perProduct.set(productId, holding);
      const quantity = num(event.data.quantity);
      if (event.type === 'StockReserved') holding.reserved = quantity;
      if (event.type === 'ReservationReleased') holding.reserved = 0;
      if (event.type === 'ReservationCommitted') {
        holding.reserved = 0;
        holding.committed = quantity;
      }
      if (event.type === 'StockReturned') holding.committed = 0;
      if (event.type === 'ReservationRejected') holding.rejected = true;
    }
  }

  const checks: CheckResult[] = [];
  const check = (name: (typeof CHECK_NAMES)[number]): CheckResult => {
    const result: CheckResult = { name, summary: '', violations: [], notes: [] };
    checks.push(result);
    return result;
  };

  // 1. Every order once, with its cart; none the run did not place (a retry placing a second one).
  {
    const result = check('orders placed once');
    const placedCheckouts = new Map(checkouts.map((row) => [row.order_id, Number(row.count)]));
    for (const [orderId, placed] of run.orders) {
      const facts = orders.get(orderId);
      if (!facts) {
        result.violations.push(`order ${orderId} (${placed.customer}) answered 202 but has no order stream`);
        continue;
      }
      if (facts.placements !== 1) {
        result.violations.push(`order ${orderId} has ${facts.placements} OrderPlaced events`);
      }
      if (linesKey(facts.items) !== linesKey(placed.lines)) {
        result.violations.push(
          `order ${orderId} holds ${linesKey(facts.items)}, its customer's cart was ${linesKey(placed.lines)}`,
        );
      }
    }
    for (const orderId of orders.keys()) {
      if (!run.orders.has(orderId))
        result.violations.push(`order ${orderId} is in the store, never placed by the run`);
    }
    for (const [orderId, count] of placedCheckouts) {
      if (count !== 1) result.violations.push(`order ${orderId} has ${count} CartCheckedOut events`);
      if (!orders.has(orderId))
        result.violations.push(`the cart checked out for order ${orderId} was never placed`);
    }
    result.summary =
      `${run.orders.size} orders answered 202, ${orders.size} order streams, ` +
      `${placedCheckouts.size} carts checked out`;
  }

  // 2. One outcome each: confirmed or cancelled, never left pending. A customer may cancel a
  // confirmed order (API.md: it is refunded and its stock released), and only that way are both there.
  const outcomes: Outcomes = {
    byOutcome: new Map(),
    byToken: new Map(),
    confirmedThenCancelled: 0,
    outcomeAfterMs: [...orders.values()]
      .flatMap((facts) => (facts.outcomeAfterMs === undefined ? [] : [facts.outcomeAfterMs]))
      .sort((a, b) => a - b),
  };
  {
    const result = check('one terminal outcome per order');
    for (const [orderId, facts] of orders) {
      const confirmations = facts.confirmedAt.length;
      const cancellations = facts.cancelled.length;
      const outcome = outcomeOf(facts);
      increment(outcomes.byOutcome, outcome);
      const token = run.orders.get(orderId)?.token ?? '?';
      const perToken = outcomes.byToken.get(token) ?? new Map<string, number>();
      outcomes.byToken.set(token, perToken);
      increment(perToken, outcome);
      if (confirmations === 0 && cancellations === 0) {
        result.violations.push(`order ${orderId} (${token}) is still PENDING`);
      }
      if (confirmations > 1) result.violations.push(`order ${orderId} has ${confirmations} OrderConfirmed`);
      if (cancellations > 1) {
        result.violations.push(
          `order ${orderId} has ${cancellations} OrderCancelled (${facts.cancelled.map((c) => c.reason).join(', ')})`,
        );
      }
      if (confirmations >= 1 && cancellations >= 1) {
        const [confirmedAt] = facts.confirmedAt;
        const [cancelled] = facts.cancelled;
        if (
          confirmations === 1 &&
          cancellations === 1 &&
          cancelled &&
          confirmedAt !== undefined &&
          confirmedAt < cancelled.revision &&
          cancelled.reason === 'customer_cancelled'
        ) {
          outcomes.confirmedThenCancelled += 1;
        } else {
          result.violations.push(
            `order ${orderId} has both outcomes: OrderConfirmed at revision ${facts.confirmedAt.join(', ')}, ` +
              `OrderCancelled at ${facts.cancelled.map((c) => `${c.revision} (${c.reason})`).join(', ')}`,
          );
        }
      }
    }
    result.summary =
      `${orders.size} orders: ${[...outcomes.byOutcome]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([outcome, count]) => `${count} ${outcome}`)
        .join(', ')}` +
      `; ${outcomes.confirmedThenCancelled} of the cancelled were confirmed first, then cancelled by their customer`;
  }

  // 3. The money side: one capture at most, one answer at most, the provider's ledger agreeing.
  {
    const result = check('no payment captured twice');
    const ledgerByOrder = new Map(ledger.map((row) => [afterDash(row.idempotency_key), row]));
    for (const [orderId, facts] of payments) {
      if (facts.captures.length > 1) {
        result.violations.push(`payment-${orderId} has ${facts.captures.length} PaymentCaptured`);
      }
      if (facts.answers.length > 1) {
        result.violations.push(
          `payment-${orderId} was answered ${facts.answers.length} times: ${facts.answers.join(', ')}`,
        );
      }
      if (facts.requests > 1)
        result.violations.push(`payment-${orderId} was requested ${facts.requests} times`);
      const repeated = facts.attempts.filter((attempt, index) => facts.attempts.indexOf(attempt) !== index);
      if (repeated.length > 0) {
        result.violations.push(
          `payment-${orderId} recorded failed attempt ${repeated.join(', ')} more than once`,
        );
      }
      if (facts.attempts.length > PAYMENT_ATTEMPTS) {
        result.violations.push(
          `payment-${orderId} failed ${facts.attempts.length} attempts, more than ${PAYMENT_ATTEMPTS}`,
        );
      }
      if (facts.refundedCents > sum(facts.captures)) {
        result.violations.push(
          `payment-${orderId} refunded ${facts.refundedCents} of ${sum(facts.captures)} captured cents`,
        );
      }
      const charge = ledgerByOrder.get(orderId);
      const ledgerCaptured = charge?.outcomes.includes('captured') ?? false;
      if (ledgerCaptured && facts.captures.length === 0) {
        result.violations.push(
          `the simulator captured payment-${orderId} (${charge?.amount_cents} cents), ` +
            `its stream records no PaymentCaptured (${facts.answers.join(', ') || 'no answer'})`,
        );
      }
      if (!ledgerCaptured && facts.captures.length > 0) {
        result.violations.push(`payment-${orderId} records PaymentCaptured, the simulator charged nothing`);
      }
      if (charge?.outcomes.includes('declined') && !facts.answers.includes('PaymentDeclined')) {
        result.violations.push(
          `the simulator declined payment-${orderId}, its stream says ${facts.answers.join(', ') || 'nothing'}`,
        );
      }
    }
    for (const row of ledger) {
      if (row.rows > 1)
        result.violations.push(`the ledger holds ${row.rows} rows for ${row.idempotency_key}`);
      if (!payments.has(afterDash(row.idempotency_key))) {
        result.violations.push(
          `the ledger charged ${row.idempotency_key}, a payment the store does not know`,
        );
      }
    }
    const captured = [...payments.values()].filter((facts) => facts.captures.length > 0).length;
    result.summary =
      `${payments.size} payment streams, ${captured} captured; ${ledger.length} ledger keys, ` +
      `${ledger.filter((row) => row.outcomes.includes('captured')).length} captured there`;
  }

  // 4. A cancelled order keeps no money: never CAPTURED at the end, refunded in full if it was.
  {
    const result = check('no cancelled order left charged');
    let cancelled = 0;
    let refunded = 0;
    const leftRequested: string[] = [];
    for (const [orderId, facts] of orders) {
      if (facts.status !== 'Cancelled') continue;
      cancelled += 1;
      const payment = payments.get(orderId);
      if (!payment) continue;
      if (payment.status === 'Captured') {
        result.violations.push(
          `order ${orderId} is CANCELLED (${facts.reason ?? '?'}), its payment ends CAPTURED ` +
            `(${payment.refundedCents} of ${payment.amountCents} cents refunded)`,
        );
      }
      if (payment.status === 'Refunded') refunded += 1;
      if (payment.status === 'Requested') leftRequested.push(orderId);
    }
    if (leftRequested.length > 0) {
      result.notes.push(
        `${leftRequested.length} cancelled orders' payments stay requested, never answered (no money moved): ` +
          leftRequested.slice(0, 5).join(', '),
      );
    }
    result.summary = `${cancelled} cancelled orders, ${refunded} of them refunded in full`;
  }

  // 5. A confirmed order is paid, and stays paid.
  {
    const result = check('confirmed orders paid, never refunded');
    let confirmed = 0;
    for (const [orderId, facts] of orders) {
      if (facts.status !== 'Confirmed') continue;
      confirmed += 1;
      const payment = payments.get(orderId);
      if (payment?.status !== 'Captured' || payment.refundedCents > 0) {
        result.violations.push(
          `order ${orderId} is CONFIRMED, its payment is ${payment ? PAYMENT_CODES[payment.status] : 'absent'}` +
            `${payment && payment.refundedCents > 0 ? ` (${payment.refundedCents} cents refunded)` : ''}`,
        );
      }
    }
    result.summary = `${confirmed} confirmed orders, each with its payment CAPTURED`;
  }

  // 6. What each card token may come to, and what a customer's accepted cancellation must.
  {
    const result = check('outcomes fit card tokens');
    const forbidden: Record<string, readonly string[]> = {
      tok_declined: ['CONFIRMED', 'CANCELLED payment_failed'],
      tok_error: ['CONFIRMED', 'CANCELLED payment_declined'],
      tok_visa: ['CANCELLED payment_declined', 'CANCELLED payment_failed'],
      tok_slow: ['CANCELLED payment_declined', 'CANCELLED payment_failed'],
    };
    let accepted = 0;
    for (const [orderId, placed] of run.orders) {
      const facts = orders.get(orderId);
      if (!facts) continue;
      const outcome = outcomeOf(facts);
      const firstOutcome = facts.confirmedAt.length > 0 && facts.cancelled.length > 0 ? 'CONFIRMED' : outcome;
      if ((forbidden[placed.token] ?? []).includes(firstOutcome)) {
        result.violations.push(`order ${orderId} paid with ${placed.token} ended ${firstOutcome}`);
      }
      if (placed.cancel === 'accepted') {
        accepted += 1;
        if (!facts.cancelled.some((cancelled) => cancelled.reason === 'customer_cancelled')) {
          result.violations.push(
            `order ${orderId}: its customer's cancellation answered 202, it ended ${outcome}`,
          );
        }
      }
      const rejected = [...(holdings.get(orderId)?.values() ?? [])].some((holding) => holding.rejected);
      if (facts.reason === 'out_of_stock' && !rejected) {
        result.violations.push(
          `order ${orderId} was cancelled out_of_stock, no reservation of it was rejected`,
        );
      }
    }
    result.summary =
      `${run.orders.size} orders against their tokens; ${accepted} cancellations accepted (202), ` +
      'each ending customer_cancelled';
  }

  // 7. Stock: what confirmed orders took plus what is available is what was restocked; nothing
  // left reserved; a cancelled order holds nothing.
  {
    const result = check('stock balances');
    const confirmedQuantity = new Map<string, number>();
    for (const [orderId, facts] of orders) {
      const held = holdings.get(orderId) ?? new Map<string, Holding>();
      for (const item of facts.items) {
        const holding = held.get(item.productId) ?? { reserved: 0, committed: 0, rejected: false };
        if (facts.status === 'Confirmed') {
          confirmedQuantity.set(item.productId, (confirmedQuantity.get(item.productId) ?? 0) + item.quantity);
          if (holding.committed !== item.quantity || holding.reserved !== 0) {
            result.violations.push(
              `order ${orderId} is CONFIRMED with ${item.quantity} of ${item.productId}, ` +
                `the inventory holds ${holding.committed} committed and ${holding.reserved} reserved for it`,
            );
          }
        } else if (facts.status === 'Cancelled' && (holding.committed !== 0 || holding.reserved !== 0)) {
          result.violations.push(
            `order ${orderId} is CANCELLED, the inventory of ${item.productId} still holds ` +
              `${holding.committed} committed and ${holding.reserved} reserved for it`,
          );
        }
      }
    }
    const lines: string[] = [];
    for (const productId of run.productIds) {
      const facts = products.get(productId);
      if (!facts) {
        result.violations.push(`product ${productId} has no inventory stream`);
        continue;
      }
      const confirmed = confirmedQuantity.get(productId) ?? 0;
      const reserved = sum(facts.reserved.values());
      const available = facts.onHand - reserved;
      const view = run.inventoryViews.get(productId);
      if (confirmed + available !== facts.restocked) {
        result.violations.push(
          `product ${productId}: ${confirmed} confirmed + ${available} available (events) != ${facts.restocked} restocked`,
        );
      }
      if (view && confirmed + view.available !== facts.restocked) {
        result.violations.push(
          `product ${productId}: ${confirmed} confirmed + ${view.available} available (GET inventory) != ${facts.restocked} restocked`,
        );
      }
      if (reserved !== 0) {
        result.violations.push(
          `product ${productId} still has ${reserved} reserved, for ${[...facts.reserved.keys()].join(', ')}`,
        );
      }
      lines.push(`${confirmed}+${available}=${facts.restocked}`);
    }
    result.summary = `${run.productIds.length} products, confirmed + available = restocked: ${lines.join(', ')}`;
  }

  // 8. Every prefix of every inventory stream.
  {
    const result = check('available never negative');
    let events = 0;
    for (const [productId, facts] of products) {
      events += facts.events;
      for (const negative of facts.negativeAt) {
        result.violations.push(
          `inventory-${productId} at revision ${negative.revision}: available ${negative.available}, on hand ${negative.onHand}`,
        );
      }
    }
    result.summary = `${products.size} inventory streams, every prefix of ${events} events`;
  }

  // 9. Nothing the saga or its runner gave up on; no deadline left behind.
  {
    const result = check('nothing parked');
    for (const parked of parkedEvents) {
      result.violations.push(`${parked.consumer} parked ${parked.stream_id}: ${parked.error}`);
    }
    for (const deadline of deadlines.filter((row) => row.parked)) {
      result.violations.push(
        `deadline ${deadline.kind} ${deadline.attempt} of order ${deadline.order_id} parked: ${deadline.last_error ?? ''}`,
      );
    }
    const waiting = deadlines.filter((row) => !row.parked);
    if (waiting.length > 0) {
      result.notes.push(
        `${waiting.length} deadlines still recorded for ended orders: ` +
          waiting
            .slice(0, 5)
            .map((row) => `${row.kind} ${row.attempt} of ${row.order_id}`)
            .join(', '),
      );
    }
    result.summary = `${parkedEvents.length} parked events, ${deadlines.filter((row) => row.parked).length} parked deadlines`;
  }

  // 10. The API's answers, folded by the shop, against the folds here.
  {
    const result = check('API agrees with the event store');
    for (const [orderId, view] of run.orderViews) {
      const facts = orders.get(orderId);
      const payment = payments.get(orderId);
      if (!facts) continue;
      const status = ORDER_CODES[facts.status];
      const paymentStatus = PAYMENT_CODES[payment?.status ?? 'Absent'];
      if (
        view.status !== status ||
        view.paymentStatus !== paymentStatus ||
        view.cancellationReason !== facts.reason
      ) {
        result.violations.push(
          `order ${orderId}: GET answers ${view.status}/${view.paymentStatus}/${view.cancellationReason ?? '-'}, ` +
            `its events say ${status}/${paymentStatus}/${facts.reason ?? '-'}`,
        );
      }
    }
    for (const [productId, view] of run.inventoryViews) {
      const facts = products.get(productId);
      if (!facts) continue;
      const reserved = sum(facts.reserved.values());
      if (
        view.onHand !== facts.onHand ||
        view.reserved !== reserved ||
        view.available !== facts.onHand - reserved
      ) {
        result.violations.push(
          `inventory ${productId}: GET answers ${JSON.stringify(view)}, its events say ` +
            `${JSON.stringify({ onHand: facts.onHand, reserved, available: facts.onHand - reserved })}`,
        );
      }
    }
    result.summary = `${run.orderViews.size} orders and ${run.inventoryViews.size} inventories read back`;
  }

  return { checks, outcomes };
}

/** What stops the run from waiting for the saga: orders not ended, events not handled, deadlines due. */
export async function unsettled(client: pg.ClientBase): Promise<{
  pending: string[];
  unplacedCheckouts: number;
  sagaBehind: boolean;
  deadlinesDue: number;
}> {
  const { rows: pending } = await client.query<{ stream_id: string }>(
    `SELECT stream_id FROM es_events WHERE category = 'order' GROUP BY stream_id
     HAVING NOT bool_or(type IN ('OrderConfirmed', 'OrderCancelled')) ORDER BY stream_id`,
  );
  // One statement, one snapshot: a deadline's effect is appended before the deadline is deleted.
  const { rows } = await client.query<{ unplaced: string; behind: boolean; due: string }>(
    `SELECT
       (SELECT count(*) FROM es_events checkout WHERE checkout.category = 'cart' AND checkout.type = 'CartCheckedOut'
          AND NOT EXISTS (SELECT 1 FROM es_events placed
                          WHERE placed.stream_id = 'order-' || (checkout.data->>'orderId') AND placed.revision = 0)) AS unplaced,
       coalesce((SELECT max(position) FROM es_events), -1)
         > coalesce((SELECT position FROM consumer_checkpoints WHERE consumer = 'checkout-saga'), -1) AS behind,
       (SELECT count(*) FROM checkout_deadlines WHERE due_at <= now() AND parked_at IS NULL) AS due`,
  );
  const row = rows[0];
  return {
    pending: pending.map((found) => afterDash(found.stream_id)),
    unplacedCheckouts: Number(row?.unplaced ?? 0),
    sagaBehind: row?.behind ?? true,
    deadlinesDue: Number(row?.due ?? 0),
  };
}

/** The events of one order, its payment and its stock, to show what became of a stuck order. */
export async function historyOf(client: pg.ClientBase, orderId: string): Promise<string> {
  const { rows } = await client.query<{ stream_id: string; type: string; recorded_at: Date }>(
    `SELECT stream_id, type, recorded_at FROM es_events
     WHERE stream_id IN ($1, $2) OR (category = 'inventory' AND data->>'orderId' = $3) ORDER BY position`,
    [`order-${orderId}`, `payment-${orderId}`, orderId],
  );
  const { rows: deadlines } = await client.query<{
    kind: string;
    attempt: number;
    due_at: Date;
    failures: number;
  }>('SELECT kind, attempt, due_at, failures FROM checkout_deadlines WHERE order_id = $1', [orderId]);
  return [
    ...rows.map((row) => `${row.recorded_at.toISOString()} ${row.stream_id.split('-')[0] ?? ''} ${row.type}`),
    ...deadlines.map(
      (row) =>
        `deadline ${row.kind} ${row.attempt} due ${row.due_at.toISOString()} (${row.failures} failures)`,
    ),
  ].join('; ');
}
