import { assertNever } from '../../domain/shared/assertNever.js';
import type { CheckoutCommand, CheckoutInput } from '../../domain/checkout/checkoutProcess.js';
import type { Payment, PaymentEvent } from '../../domain/payment/payment.js';
import type { PaymentCommand } from '../../domain/payment/payment.decide.js';
import { RuleViolation } from '../../domain/shared/errors.js';
import type { ShopEvent } from '../../domain/shopEvents.js';
import { inventories, orders, payments } from '../aggregates.js';
import type { CommandEnvironment } from '../commandEnvironment.js';
import { type CommandContext, type Handled, handle, type LoadedState } from '../commandHandler.js';
import { derivedUuid } from '../derivedIds.js';

/** The actor of everything the checkout does on its own. */
const CHECKOUT_ACTOR = 'system:checkout';

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

/**
 * The ids of what a command for a cause appends: from the cause, the step, and the command and
 * its target. A cause handed over again may be decided otherwise than the first time, when what
 * the first decision knew was lost in a crash (an order cancelled meanwhile, say): another command
 * then gets ids of its own, and is not mistaken for the first one, already done.
 */
const idsFrom =
  (cause: CheckoutCause, step: string, command: { type: string }, target: string) =>
  (_event: ShopEvent, index: number): string =>
    derivedUuid('checkout', cause.id, step, command.type, target, String(index));

/** An event a checkout command appended, with the id it was given. */
export interface Written {
  id: string;
  event: CheckoutInput['event'];
}

/**
 * Sends one of the checkout's commands for an order and answers what it appended; `step` tells
 * apart the commands one cause sends. An order that someone else confirmed or cancelled first, or
 * a payment that already has its answer, refuses the checkout's command: whoever came first
 * decided, and the checkout hears of it from the event that followed.
 */
export async function sendCheckoutCommand(
  env: CommandEnvironment,
  orderId: string,
  command: CheckoutCommand,
  cause: CheckoutCause,
  step = 0,
): Promise<Written[]> {
  const now = env.now().toISOString();
  const target = 'productId' in command ? command.productId : orderId;
  const eventId = idsFrom(cause, String(step), command, target);
  const request = { context: contextOf(cause), retryOnConflict: true, eventId };
  const written = ({ events }: { events: CheckoutInput['event'][] }): Written[] =>
    events.map((event, index) => ({ id: eventId(event, index), event }));
  switch (command.type) {
    case 'ReserveStock':
    case 'ReleaseReservation':
    case 'CommitReservation':
    case 'ReturnStock':
      return written(
        await handle(env.streams, inventories, {
          ...request,
          id: command.productId,
          command: { ...command, orderId, now },
        }),
      );
    case 'RequestPayment':
    case 'RefundInFull':
      return written(
        await handle(env.streams, payments, {
          ...request,
          id: orderId,
          command: { ...command, orderId, now },
        }),
      );
    case 'FailPayment':
      return ifStillUndecided(async () =>
        written(
          await handle(env.streams, payments, {
            ...request,
            id: orderId,
            command: { ...command, orderId, now },
          }),
        ),
      );
    case 'ConfirmOrder':
    case 'CancelOrder':
      return ifStillUndecided(async () =>
        written(
          await handle(env.streams, orders, {
            ...request,
            id: orderId,
            command: { ...command, orderId, now },
          }),
        ),
      );
    default:
      return assertNever(command);
  }
}

/**
 * Records the provider's answer to a charge (or that none came), through the same context and
 * derived ids as the checkout's other commands: fired again, the deadline records it once.
 */
export const answerCharge = (
  env: CommandEnvironment,
  command: PaymentCommand,
  cause: CheckoutCause,
  known?: LoadedState<Payment>,
): Promise<Handled<Payment, PaymentEvent>> =>
  handle(env.streams, payments, {
    id: command.orderId,
    command,
    context: contextOf(cause),
    retryOnConflict: true,
    eventId: idsFrom(cause, 'answer', command, command.orderId),
    known,
  });

async function ifStillUndecided(send: () => Promise<Written[]>): Promise<Written[]> {
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof RuleViolation)) throw error;
    return [];
  }
}
