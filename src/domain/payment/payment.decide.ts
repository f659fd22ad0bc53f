import { assertNever } from '../shared/assertNever.js';
import type { Decider } from '../shared/decider.js';
import { NotFound, RuleViolation, ValidationError } from '../shared/errors.js';
import { type Cents, formatMoney } from '../shared/money.js';
import {
  evolve,
  type ExistingPayment,
  initialState,
  type Payment,
  type PaymentEvent,
  type PaymentStatus,
} from './payment.js';

// Commands

export interface RequestPayment {
  type: 'RequestPayment';
  orderId: string;
  userId: string;
  amountCents: Cents;
  token: string;
  now: string;
}

export interface CapturePayment {
  type: 'CapturePayment';
  orderId: string;
  providerReference: string;
  now: string;
}

export interface DeclinePayment {
  type: 'DeclinePayment';
  orderId: string;
  reason: string;
  now: string;
}

export interface FailPayment {
  type: 'FailPayment';
  orderId: string;
  reason: string;
  now: string;
}

export interface RecordFailedAttempt {
  type: 'RecordFailedAttempt';
  orderId: string;
  attempt: number;
  reason: string;
  now: string;
}

/** Refunds whatever of a captured payment is not refunded yet. */
export interface RefundInFull {
  type: 'RefundInFull';
  orderId: string;
  now: string;
}

export interface RefundPayment {
  type: 'RefundPayment';
  orderId: string;
  amountCents: Cents;
  now: string;
}

export type PaymentCommand =
  | RequestPayment
  | CapturePayment
  | DeclinePayment
  | RecordFailedAttempt
  | FailPayment
  | RefundPayment
  | RefundInFull;

// Rules on input, whatever the state

function requireAmount(amountCents: Cents): Cents {
  if (!Number.isSafeInteger(amountCents) || amountCents < 1) {
    throw new ValidationError('amount', 'must be a positive whole number of cents');
  }
  return amountCents;
}

function requireText(field: string, value: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') throw new ValidationError(field, 'must not be blank');
  return text;
}

// Rules on state

function requirePayment(state: Payment, orderId: string): ExistingPayment {
  if (state.status === 'Absent') throw new NotFound('payment', orderId);
  return state;
}

const describeStatus = (status: PaymentStatus): string => status.toLowerCase();

/** The provider answers a request once: captured, declined or failed, and never two of them. */
function requireAwaitingAnswer(payment: ExistingPayment, verb: string, outcome: PaymentStatus): void {
  if (payment.status === 'Requested') return;
  const already = payment.status === outcome || (outcome === 'Captured' && payment.status === 'Refunded');
  throw new RuleViolation(
    already
      ? `payment for order ${payment.orderId} is already ${describeStatus(outcome)}`
      : `cannot ${verb} a ${describeStatus(payment.status)} payment`,
  );
}

// Decisions

function requestPayment(command: RequestPayment, state: Payment): PaymentEvent[] {
  const amountCents = requireAmount(command.amountCents);
  const token = requireText('token', command.token);
  if (state.status !== 'Absent') {
    // The checkout saga may ask twice for the same charge; a different amount is another payment.
    if (state.amountCents === amountCents) return [];
    throw new RuleViolation(
      `payment for order ${command.orderId} was already requested for ${formatMoney(state.amountCents)}`,
    );
  }
  const { orderId, userId, now: at } = command;
  return [{ type: 'PaymentRequested', data: { orderId, userId, amountCents, token, at } }];
}

function capturePayment(command: CapturePayment, state: Payment): PaymentEvent[] {
  const providerReference = requireText('providerReference', command.providerReference);
  const payment = requirePayment(state, command.orderId);
  requireAwaitingAnswer(payment, 'capture', 'Captured');
  return [
    {
      type: 'PaymentCaptured',
      data: {
        orderId: payment.orderId,
        amountCents: payment.amountCents,
        providerReference,
        at: command.now,
      },
    },
  ];
}

function declinePayment(command: DeclinePayment, state: Payment): PaymentEvent[] {
  const reason = requireText('reason', command.reason);
  const payment = requirePayment(state, command.orderId);
  requireAwaitingAnswer(payment, 'decline', 'Declined');
  return [{ type: 'PaymentDeclined', data: { orderId: payment.orderId, reason, at: command.now } }];
}

function failPayment(command: FailPayment, state: Payment): PaymentEvent[] {
  const reason = requireText('reason', command.reason);
  const payment = requirePayment(state, command.orderId);
  requireAwaitingAnswer(payment, 'fail', 'Failed');
  return [{ type: 'PaymentFailed', data: { orderId: payment.orderId, reason, at: command.now } }];
}

function recordFailedAttempt(command: RecordFailedAttempt, state: Payment): PaymentEvent[] {
  const reason = requireText('reason', command.reason);
  const { attempt } = command;
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new ValidationError('attempt', 'must be a whole number of at least 1');
  }
  const payment = requirePayment(state, command.orderId);
  if (payment.status !== 'Requested') {
    throw new RuleViolation(
      `payment for order ${payment.orderId} is already ${describeStatus(payment.status)}`,
    );
  }
  // The same attempt told twice (a deadline fired again after a crash) is recorded once.
  if (attempt <= payment.failedAttempts) return [];
  return [
    { type: 'PaymentAttemptFailed', data: { orderId: payment.orderId, attempt, reason, at: command.now } },
  ];
}

function refundInFull(command: RefundInFull, state: Payment): PaymentEvent[] {
  const payment = requirePayment(state, command.orderId);
  // Whoever refunded it first, it is refunded: compensating twice gives nothing back twice.
  if (payment.status === 'Refunded') return [];
  if (payment.status !== 'Captured') {
    throw new RuleViolation(`cannot refund a ${describeStatus(payment.status)} payment, only a captured one`);
  }
  return [
    {
      type: 'PaymentRefunded',
      data: {
        orderId: payment.orderId,
        amountCents: payment.amountCents - payment.refundedCents,
        refundedCents: payment.amountCents,
        at: command.now,
      },
    },
  ];
}

function refundPayment(command: RefundPayment, state: Payment): PaymentEvent[] {
  const amountCents = requireAmount(command.amountCents);
  const payment = requirePayment(state, command.orderId);
  if (payment.status === 'Refunded') {
    throw new RuleViolation(`payment for order ${payment.orderId} is already refunded in full`);
  }
  if (payment.status !== 'Captured') {
    throw new RuleViolation(`cannot refund a ${describeStatus(payment.status)} payment, only a captured one`);
  }
  const refundedCents = payment.refundedCents + amountCents;
  if (refundedCents > payment.amountCents) {
    throw new RuleViolation(
      `cannot refund ${formatMoney(amountCents)}: only ${formatMoney(payment.amountCents - payment.refundedCents)} of ${formatMoney(payment.amountCents)} is left to refund`,
    );
  }
  return [
    {
      type: 'PaymentRefunded',
      data: { orderId: payment.orderId, amountCents, refundedCents, at: command.now },
    },
  ];
}

export const decide = (command: PaymentCommand, state: Payment): PaymentEvent[] => {
  switch (command.type) {
    case 'RequestPayment':
      return requestPayment(command, state);
    case 'CapturePayment':
      return capturePayment(command, state);
    case 'DeclinePayment':
      return declinePayment(command, state);
    case 'RecordFailedAttempt':
      return recordFailedAttempt(command, state);
    case 'FailPayment':
      return failPayment(command, state);
    case 'RefundPayment':
      return refundPayment(command, state);
    case 'RefundInFull':
      return refundInFull(command, state);
    default:
      return assertNever(command);
  }
};

export const paymentDecider: Decider<PaymentCommand, PaymentEvent, Payment> = {
  decide,
  evolve,
  initialState,
};
