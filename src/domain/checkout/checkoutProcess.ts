import type { InventoryEvent } from '../inventory/inventory.js';
import type { CancellationReason, OrderEvent } from '../order/order.js';
import type { PaymentEvent } from '../payment/payment.js';
import { assertNever } from '../shared/assertNever.js';
import type { Cents } from '../shared/money.js';

/**
 * The checkout of one order: reserve every line, charge, confirm; or cancel and give back what was
 * taken. It decides on the events of the order, its stock reservations and its payment, as they
 * arrive; what it decides are commands for those aggregates and deadlines for later. Every
 * decision depends on the event and the state alone, so a redelivered event decides the same.
 */

/** What the process reacts to: an event, and when it was recorded (its clock for deadlines). */
export interface CheckoutInput {
  event: OrderEvent | InventoryEvent | PaymentEvent;
  recordedAt: string;
}

export interface CheckoutSettings {
  /** The wait before the first retry of a charge the provider erred on; it doubles after. */
  paymentRetryDelayMs: number;
  /** How many times an erring charge is tried again before the payment is failed. */
  paymentRetries: number;
}

export interface CheckoutLine {
  productId: string;
  quantity: number;
}

/** The order as the process last knew it; shipped orders are past its reach. */
export type CheckoutOutcome = 'Pending' | 'Confirmed' | 'Cancelled' | 'Shipped';

export type CheckoutPayment = 'None' | 'Requested' | 'Captured' | 'Declined' | 'Failed' | 'Refunded';

/** Plain JSON, so that it is stored as it is. */
export interface ActiveCheckout {
  status: 'Active';
  orderId: string;
  userId: string;
  lines: CheckoutLine[];
  totalCents: Cents;
  token: string;
  placedAt: string;
  outcome: CheckoutOutcome;
  /** Lines whose stock is held for the order. */
  reserved: string[];
  /** Lines whose stock the order took, and has not given back. */
  committed: string[];
  payment: CheckoutPayment;
}

export type CheckoutProcess = { status: 'NotStarted' } | ActiveCheckout;

export const initialCheckout: CheckoutProcess = { status: 'NotStarted' };

export type DeadlineKind = 'expire-order' | 'charge';

export interface Deadline {
  kind: DeadlineKind;
  /** Which charge: 1 for the first call to the provider. Always 1 for an order's expiry. */
  attempt: number;
  dueAt: string;
}

export type CheckoutCommand =
  | { type: 'ReserveStock'; productId: string; quantity: number }
  | { type: 'ReleaseReservation'; productId: string }
  | { type: 'CommitReservation'; productId: string }
  | { type: 'ReturnStock'; productId: string }
  | { type: 'RequestPayment'; userId: string; amountCents: Cents; token: string }
  | { type: 'FailPayment'; reason: string }
  | { type: 'RefundInFull' }
  | { type: 'ConfirmOrder' }
  | { type: 'CancelOrder'; reason: CancellationReason };

export type CheckoutAction =
  | { type: 'Send'; command: CheckoutCommand }
  | { type: 'Schedule'; deadline: Deadline }
  | { type: 'Unschedule'; kind: DeadlineKind };

const send = (command: CheckoutCommand): CheckoutAction => ({ type: 'Send', command });

/** The order a checkout event is about; every event the process reacts to names one. */
export const orderIdOf = (event: CheckoutInput['event']): string | undefined =>
  'orderId' in event.data ? event.data.orderId : undefined;

const without = (items: readonly string[], item: string): string[] => items.filter((other) => other !== item);
const including = (items: readonly string[], item: string): string[] =>
  items.includes(item) ? [...items] : [...items, item];

export function evolve(state: CheckoutProcess, input: CheckoutInput): CheckoutProcess {
  const { event } = input;
  if (event.type === 'OrderPlaced') {
    if (state.status === 'Active') return state;
    const { data } = event;
    return {
      status: 'Active',
      orderId: data.orderId,
      userId: data.userId,
      lines: data.items.map(({ productId, quantity }) => ({ productId, quantity })),
      totalCents: data.totalCents,
      token: data.paymentMethod.token,
      placedAt: data.placedAt,
      outcome: 'Pending',
      reserved: [],
      committed: [],
      payment: 'None',
    };
  }
  if (state.status === 'NotStarted') return state;
  switch (event.type) {
    case 'OrderConfirmed':
      return state.outcome === 'Pending' ? { ...state, outcome: 'Confirmed' } : state;
    case 'OrderCancelled':
      return state.outcome === 'Shipped' ? state : { ...state, outcome: 'Cancelled' };
    case 'OrderShipped':
    case 'OrderDelivered':
      return { ...state, outcome: 'Shipped' };
    case 'StockReserved':
      return { ...state, reserved: including(state.reserved, event.data.productId) };
    case 'ReservationReleased':
      return { ...state, reserved: without(state.reserved, event.data.productId) };
    case 'ReservationCommitted':
      return {
        ...state,
        reserved: without(state.reserved, event.data.productId),
        committed: including(state.committed, event.data.productId),
      };
    case 'StockReturned':
      return { ...state, committed: without(state.committed, event.data.productId) };
    case 'PaymentRequested':
      return { ...state, payment: 'Requested' };
    case 'PaymentCaptured':
      return { ...state, payment: 'Captured' };
    case 'PaymentDeclined':
      return { ...state, payment: 'Declined' };
    case 'PaymentFailed':
      return { ...state, payment: 'Failed' };
    case 'PaymentRefunded':
      return event.data.refundedCents >= state.totalCents ? { ...state, payment: 'Refunded' } : state;
    case 'StockRestocked':
    case 'ReservationRejected':
    case 'PaymentAttemptFailed':
      return state;
    default:
      return assertNever(event);
  }
}

/** What to do about an event, given what the process knew before it. */
export function decide(
  input: CheckoutInput,
  state: CheckoutProcess,
  settings: CheckoutSettings,
): CheckoutAction[] {
  const { event } = input;
  if (event.type === 'OrderPlaced') {
    // Placed twice is placed once: the first placement started everything already.
    if (state.status === 'Active') return [];
    return [
      ...event.data.items.map(({ productId, quantity }) =>
        send({ type: 'ReserveStock', productId, quantity }),
      ),
      { type: 'Schedule', deadline: { kind: 'expire-order', attempt: 1, dueAt: event.data.expiresAt } },
    ];
  }
  // Events of an order placed before the process ran, or of no order at all: none of its business.
  if (state.status === 'NotStarted') return [];
  const pending = state.outcome === 'Pending';
  const cancelled = state.outcome === 'Cancelled';
  switch (event.type) {
    case 'StockReserved': {
      const { productId } = event.data;
      // Reserved after the order was cancelled (a step redelivered): given back at once.
      if (cancelled) return [send({ type: 'ReleaseReservation', productId })];
      const reserved = including(state.reserved, productId);
      const allReserved = state.lines.every((line) => reserved.includes(line.productId));
      if (!pending || !allReserved || state.payment !== 'None') return [];
      return [
        send({
          type: 'RequestPayment',
          userId: state.userId,
          amountCents: state.totalCents,
          token: state.token,
        }),
      ];
    }
    case 'ReservationRejected':
      return pending ? [send({ type: 'CancelOrder', reason: 'out_of_stock' })] : [];
    case 'ReservationCommitted':
      // Taken from stock after the order was cancelled: it goes back.
      return cancelled ? [send({ type: 'ReturnStock', productId: event.data.productId })] : [];
    case 'PaymentRequested':
      // Requested for an order cancelled meanwhile, it is charged by no one: the deadline fires
      // all the same, finds the order ended, and fails the payment without asking the provider.
      return pending || cancelled
        ? [{ type: 'Schedule', deadline: { kind: 'charge', attempt: 1, dueAt: input.recordedAt } }]
        : [];
    case 'PaymentAttemptFailed': {
      if (!pending) return [];
      const { attempt } = event.data;
      if (attempt > settings.paymentRetries) {
        return [send({ type: 'FailPayment', reason: `the provider erred on every attempt (${attempt})` })];
      }
      const dueAt = Date.parse(input.recordedAt) + settings.paymentRetryDelayMs * 2 ** (attempt - 1);
      return [
        {
          type: 'Schedule',
          deadline: { kind: 'charge', attempt: attempt + 1, dueAt: new Date(dueAt).toISOString() },
        },
      ];
    }
    case 'PaymentCaptured':
      if (pending) return [send({ type: 'ConfirmOrder' })];
      // Charged while the order was being cancelled: the money goes back.
      return cancelled ? [send({ type: 'RefundInFull' })] : [];
    case 'PaymentDeclined':
      return pending ? [send({ type: 'CancelOrder', reason: 'payment_declined' })] : [];
    case 'PaymentFailed':
      return pending ? [send({ type: 'CancelOrder', reason: 'payment_failed' })] : [];
    case 'OrderConfirmed':
      if (!pending) return [];
      return [
        ...state.reserved.map((productId) => send({ type: 'CommitReservation', productId })),
        { type: 'Unschedule', kind: 'expire-order' },
      ];
    case 'OrderCancelled':
      if (cancelled || state.outcome === 'Shipped') return [];
      return [
        ...state.reserved.map((productId) => send({ type: 'ReleaseReservation', productId })),
        ...state.committed.map((productId) => send({ type: 'ReturnStock', productId })),
        ...(state.payment === 'Captured' ? [send({ type: 'RefundInFull' })] : []),
        { type: 'Unschedule', kind: 'expire-order' },
      ];
    case 'OrderShipped':
    case 'OrderDelivered':
    case 'StockRestocked':
    case 'ReservationReleased':
    case 'StockReturned':
    case 'PaymentRefunded':
      return [];
    default:
      return assertNever(event);
  }
}
