import { assertNever } from '../shared/assertNever.js';
import type { DomainEvent } from '../shared/decider.js';
import type { Cents } from '../shared/money.js';

/** One payment per order, so the stream is named after the order. */
export const paymentStreamId = (orderId: string): string => `payment-${orderId}`;

// Events

export interface PaymentRequestedData {
  orderId: string;
  userId: string;
  amountCents: Cents;
  /** The payment provider's card token. */
  token: string;
  at: string;
}

export interface PaymentCapturedData {
  orderId: string;
  amountCents: Cents;
  providerReference: string;
  at: string;
}

export interface PaymentDeclinedData {
  orderId: string;
  reason: string;
  at: string;
}

/** The provider erred on one attempt, an error that may pass: the checkout tries again later. */
export interface PaymentAttemptFailedData {
  orderId: string;
  /** 1 for the first call to the provider. */
  attempt: number;
  reason: string;
  at: string;
}

export interface PaymentFailedData {
  orderId: string;
  reason: string;
  at: string;
}

/** `amountCents` is this refund; `refundedCents` all refunds so far, this one included. */
export interface PaymentRefundedData {
  orderId: string;
  amountCents: Cents;
  refundedCents: Cents;
  at: string;
}

export type PaymentRequested = DomainEvent<'PaymentRequested', PaymentRequestedData>;
export type PaymentCaptured = DomainEvent<'PaymentCaptured', PaymentCapturedData>;
export type PaymentDeclined = DomainEvent<'PaymentDeclined', PaymentDeclinedData>;
export type PaymentAttemptFailed = DomainEvent<'PaymentAttemptFailed', PaymentAttemptFailedData>;
export type PaymentFailed = DomainEvent<'PaymentFailed', PaymentFailedData>;
export type PaymentRefunded = DomainEvent<'PaymentRefunded', PaymentRefundedData>;

export type PaymentEvent =
  | PaymentRequested
  | PaymentCaptured
  | PaymentDeclined
  | PaymentAttemptFailed
  | PaymentFailed
  | PaymentRefunded;

// State

export interface PaymentDetails {
  orderId: string;
  userId: string;
  amountCents: Cents;
  token: string;
  requestedAt: string;
  updatedAt: string;
}

/** Asked of the provider, no answer yet. */
export interface RequestedPayment extends PaymentDetails {
  status: 'Requested';
  /** Attempts the provider erred on so far. */
  failedAttempts: number;
}

/** Taken from the card; possibly refunded in part. */
export interface CapturedPayment extends PaymentDetails {
  status: 'Captured';
  providerReference: string;
  capturedAt: string;
  refundedCents: Cents;
}

/** Refunded in full. */
export interface RefundedPayment extends PaymentDetails {
  status: 'Refunded';
  providerReference: string;
  capturedAt: string;
  refundedCents: Cents;
}

/** The provider refused the card. */
export interface DeclinedPayment extends PaymentDetails {
  status: 'Declined';
  reason: string;
}

/** The provider could not be reached or kept erring, retries included. */
export interface FailedPayment extends PaymentDetails {
  status: 'Failed';
  reason: string;
}

export type ExistingPayment =
  RequestedPayment | CapturedPayment | RefundedPayment | DeclinedPayment | FailedPayment;

export type Payment = { status: 'Absent' } | ExistingPayment;

export type PaymentStatus = ExistingPayment['status'];

export const initialState: Payment = { status: 'Absent' };

/** The status as the API spells it. */
export type PaymentStatusCode = 'PENDING' | 'CAPTURED' | 'DECLINED' | 'FAILED' | 'REFUNDED';

const PAYMENT_STATUS_CODES: Readonly<Record<PaymentStatus, PaymentStatusCode>> = {
  Requested: 'PENDING',
  Captured: 'CAPTURED',
  Declined: 'DECLINED',
  Failed: 'FAILED',
  Refunded: 'REFUNDED',
};

export const paymentStatusCode = (status: PaymentStatus): PaymentStatusCode => PAYMENT_STATUS_CODES[status];

export interface PaymentView {
  status: PaymentStatusCode;
  amountCents: Cents;
  refundedCents: Cents;
}

/** The payment as an order shows it; null until the payment is requested. */
export function paymentView(state: Payment): PaymentView | null {
  if (state.status === 'Absent') return null;
  const refundedCents = state.status === 'Captured' || state.status === 'Refunded' ? state.refundedCents : 0;
  return { status: paymentStatusCode(state.status), amountCents: state.amountCents, refundedCents };
}

/** What every payment keeps, whatever became of it. */
function detailsOf(payment: ExistingPayment): PaymentDetails {
  const { orderId, userId, amountCents, token, requestedAt, updatedAt } = payment;
  return { orderId, userId, amountCents, token, requestedAt, updatedAt };
}

/**
 * Recorded events are facts and a fold never refuses them; one that needs a requested (or, for a
 * refund, a captured) payment and finds none leaves the state as it is.
 */
export const evolve = (state: Payment, event: PaymentEvent): Payment => {
  switch (event.type) {
    case 'PaymentRequested': {
      const { at, ...requested } = event.data;
      return { status: 'Requested', ...requested, requestedAt: at, updatedAt: at, failedAttempts: 0 };
    }
    case 'PaymentAttemptFailed':
      if (state.status !== 'Requested') return state;
      return {
        ...state,
        failedAttempts: Math.max(state.failedAttempts, event.data.attempt),
        updatedAt: event.data.at,
      };
    case 'PaymentCaptured': {
      if (state.status === 'Absent') return state;
      const { providerReference, at } = event.data;
      return {
        ...detailsOf(state),
        status: 'Captured',
        providerReference,
        capturedAt: at,
        refundedCents: 0,
        updatedAt: at,
      };
    }
    case 'PaymentDeclined':
      if (state.status === 'Absent') return state;
      return { ...detailsOf(state), status: 'Declined', reason: event.data.reason, updatedAt: event.data.at };
    case 'PaymentFailed':
      if (state.status === 'Absent') return state;
      return { ...detailsOf(state), status: 'Failed', reason: event.data.reason, updatedAt: event.data.at };
    case 'PaymentRefunded': {
      if (state.status !== 'Captured' && state.status !== 'Refunded') return state;
      const { refundedCents, at } = event.data;
      return {
        ...state,
        status: refundedCents >= state.amountCents ? 'Refunded' : 'Captured',
        refundedCents,
        updatedAt: at,
      };
    }
    default:
      return assertNever(event);
  }
};
