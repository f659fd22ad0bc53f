import { assertNever } from '../../domain/shared/assertNever.js';
import type { CheckoutCommand } from '../../domain/checkout/checkoutProcess.js';
import { RuleViolation } from '../../domain/shared/errors.js';
import type { ShopEvent } from '../../domain/shopEvents.js';
import { inventories, orders, payments } from '../aggregates.js';
import type { CommandEnvironment } from '../commandEnvironment.js';
import { type CommandContext, handle } from '../commandHandler.js';
import { derivedUuid } from '../derivedIds.js';

/** The actor of everything the checkout does on its own. */
export const CHECKOUT_ACTOR = 'system:checkout';

/**
 * What made the checkout send a command: an event it reacted to, or a deadline it fired. Every id
 * the command appends derives from it, so sending the same command for the same cause again, after
 * a crash or a redelivery, finds its events stored and takes no effect twice.
 */
export interface CheckoutCause {
  /** Unique to the cause: the event's id, or the deadline's. */
  id: string;
  correlationId: string;
}

const contextOf = (cause: CheckoutCause): CommandContext => ({
  actor: CHECKOUT_ACTOR,
  correlationId: cause.correlationId,
  causationId: cause.id,
});

const idsFrom =
  (cause: CheckoutCause, step: number) =>
  (_event: ShopEvent, index: number): string =>
    derivedUuid('checkout', cause.id, String(step), String(index));

/**
 * Sends one of the checkout's commands for an order; `step` tells apart the commands one cause
 * sends. An order that someone else confirmed or cancelled first, or a payment that already has
 * its answer, refuses the checkout's command: whoever came first decided, and the checkout hears
 * of it from the event that followed.
 */
export async function sendCheckoutCommand(
  env: CommandEnvironment,
  orderId: string,
  command: CheckoutCommand,
  cause: CheckoutCause,
  step = 0,
): Promise<void> {
  const now = env.now().toISOString();
  const request = { context: contextOf(cause), retryOnConflict: true, eventId: idsFrom(cause, step) };
  switch (command.type) {
    case 'ReserveStock':
    case 'ReleaseReservation':
    case 'CommitReservation':
    case 'ReturnStock':
      await handle(env.streams, inventories, {
        ...request,
        id: command.productId,
        command: { ...command, orderId, now },
      });
      return;
    case 'RequestPayment':
    case 'RefundInFull':
      await handle(env.streams, payments, { ...request, id: orderId, command: { ...command, orderId, now } });
      return;
    case 'FailPayment':
      await ifStillUndecided(() =>
        handle(env.streams, payments, { ...request, id: orderId, command: { ...command, orderId, now } }),
      );
      return;
    case 'ConfirmOrder':
    case 'CancelOrder':
      await ifStillUndecided(() =>
        handle(env.streams, orders, { ...request, id: orderId, command: { ...command, orderId, now } }),
      );
      return;
    default:
      assertNever(command);
  }
}

async function ifStillUndecided(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (error) {
    if (!(error instanceof RuleViolation)) throw error;
  }
}
