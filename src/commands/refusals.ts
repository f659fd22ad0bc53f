import { NotFound, OrderRuleViolation, RuleViolation, ValidationError } from '../domain/shared/errors.js';
import { DuplicateEventId, InvalidEventStoreRequest } from '../eventstore/errors.js';
import { IdempotencyKeyReused } from './order/order.js';
import { UndecodableEvent } from './storedEvents.js';

/**
 * Whether an error is a refusal of what was asked, which asking again refuses again: a rule, an
 * input the domain or the store will not take, an event the shop cannot read.
 */
export const isRefusal = (error: unknown): boolean =>
  error instanceof ValidationError ||
  error instanceof RuleViolation ||
  error instanceof OrderRuleViolation ||
  error instanceof NotFound ||
  error instanceof IdempotencyKeyReused ||
  error instanceof InvalidEventStoreRequest ||
  error instanceof DuplicateEventId ||
  error instanceof UndecodableEvent;
