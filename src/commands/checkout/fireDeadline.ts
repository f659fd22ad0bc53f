import { paymentStreamId } from '../../domain/payment/payment.js';
import type { PaymentCommand } from '../../domain/payment/payment.decide.js';
import { RuleViolation } from '../../domain/shared/errors.js';
import { assertNever } from '../../domain/shared/assertNever.js';
import { orders, payments } from '../aggregates.js';
import type { CommandEnvironment } from '../commandEnvironment.js';
import { load } from '../commandHandler.js';
import type { PaymentProvider } from '../payment/paymentProvider.js';
import { answerCharge, type CheckoutCause, sendCheckoutCommand } from './checkoutCommands.js';
import { deadlineId, type StoredDeadline } from './checkoutTables.js';

export interface DeadlineDependencies {
  env: CommandEnvironment;
  provider: PaymentProvider;
  /** Records that a charge is about to reach the provider, before it does. */
  markStarted(deadline: StoredDeadline): Promise<void>;
}

/**
 * Does what a due deadline is for. Everything it sends derives its ids from the deadline, so a
 * deadline fired again (its instance died before it could say it was done) takes effect once.
 */
export async function fireDeadline(
  dependencies: DeadlineDependencies,
  deadline: StoredDeadline,
): Promise<void> {
  const cause: CheckoutCause = { id: deadlineId(deadline), correlationId: deadline.correlationId };
  switch (deadline.kind) {
    case 'expire-order':
      // Refused unless the order is still pending and past its expiry, by the same clock.
      await sendCheckoutCommand(
        dependencies.env,
        deadline.orderId,
        { type: 'CancelOrder', reason: 'expired' },
        cause,
      );
      return;
    case 'charge':
      await charge(dependencies, deadline, cause);
      return;
    default:
      assertNever(deadline.kind);
  }
}

async function charge(
  dependencies: DeadlineDependencies,
  deadline: StoredDeadline,
  cause: CheckoutCause,
): Promise<void> {
  const { env, provider } = dependencies;
  const { orderId, attempt } = deadline;
  const loaded = await load(env.streams, payments, orderId);
  const { state: payment } = loaded;
  // Answered already: by this deadline fired before, or by an earlier attempt.
  if (payment.status !== 'Requested' || payment.failedAttempts >= attempt) return;
  const { state: order } = await load(env.streams, orders, orderId);
  // The payment as read above: the provider's answer is recorded without reading it again.
  const answer = (command: PaymentCommand) => answerCharge(env, command, cause, loaded);
  const now = () => env.now().toISOString();
  // An order that ended before its charge began is never charged; one begun may have been, and
  // asking again with the same key tells.
  if (order.status !== 'Pending' && !deadline.started) {
    await answer({
      type: 'FailPayment',
      orderId,
      reason: `the order was ${order.status.toLowerCase()} before it was charged`,
      now: now(),
    });
    return;
  }
  await dependencies.markStarted(deadline);
  let result;
  try {
    result = await provider.charge({
      idempotencyKey: paymentStreamId(orderId),
      token: payment.token,
      amountCents: payment.amountCents,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await answer({ type: 'RecordFailedAttempt', orderId, attempt, reason, now: now() });
    return;
  }
  try {
    await answer(
      result.outcome === 'captured'
        ? { type: 'CapturePayment', orderId, providerReference: result.reference, now: now() }
        : { type: 'DeclinePayment', orderId, reason: result.reason, now: now() },
    );
  } catch (error) {
    // Answered meanwhile: the provider gave the first answer again, and it is recorded.
    if (!(error instanceof RuleViolation)) throw error;
  }
}
