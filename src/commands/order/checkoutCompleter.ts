import type { Logger } from 'pino';
import type { CartCheckedOutData } from '../../domain/cart/cart.js';
import { OrderRuleViolation, RuleViolation, ValidationError } from '../../domain/shared/errors.js';
import type { RecordedEvent, SubscribeToAllOptions } from '../../eventstore/eventStore.js';
import type { CommandBus } from '../commandHandler.js';
import type { Checkpoints } from '../checkpoints.js';
import { completeCheckout } from './placeOrder.js';

const CHECKOUT_COMPLETER = 'checkout-completer';

export interface CheckoutCompleterOptions {
  bus: CommandBus;
  /** Events with personal data opened, as every reader gets them. */
  subscribe: (options: SubscribeToAllOptions) => AsyncIterable<RecordedEvent>;
  checkpoints: Checkpoints;
  orderTimeoutMs: number;
  logger: Logger;
  signal: AbortSignal;
  /** How long to wait before subscribing again after a failure. */
  retryDelayMs?: number;
  /** Told when the completer fails and when it runs again, for readiness. */
  health?: SubscriptionHealth;
}

/** Whether a background subscription runs: readiness asks it, the subscription tells it. */
export class SubscriptionHealth {
  private failure: Error | undefined;

  running(): void {
    this.failure = undefined;
  }

  failed(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
  }

  /** Resolves while the subscription runs; rejects with its last failure while it is retrying. */
  check(): Promise<void> {
    return this.failure ? Promise.reject(this.failure) : Promise.resolve();
  }
}

/**
 * Places the order of every checked-out cart. The request that checked the cart out normally placed
 * it already, and this changes nothing; it matters when that request was cut off in between, so
 * that the cart's lines always end up in an order.
 */
export async function runCheckoutCompleter(options: CheckoutCompleterOptions): Promise<void> {
  const { bus, subscribe, checkpoints, orderTimeoutMs, logger, signal } = options;
  while (!signal.aborted) {
    try {
      const handled = await checkpoints.load(CHECKOUT_COMPLETER);
      options.health?.running();
      const events = subscribe({
        fromPosition: handled === undefined ? 0 : handled + 1,
        category: 'cart',
        signal,
      });
      for await (const event of events) {
        if (event.type === 'CartCheckedOut') await complete(event);
        await checkpoints.save(CHECKOUT_COMPLETER, event.position);
      }
    } catch (error) {
      if (signal.aborted) return;
      options.health?.failed(error);
      logger.error({ err: error }, 'checkout completer failed; subscribing again');
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 1_000));
    }
  }

  async function complete(event: RecordedEvent): Promise<void> {
    const checkout = event.data as unknown as CartCheckedOutData;
    // A forgotten customer's request reads as erased: there is nothing left to place.
    if (typeof checkout.request !== 'object') return;
    const context = {
      actor: `system:${CHECKOUT_COMPLETER}`,
      correlationId: event.metadata.correlationId,
      causationId: event.id,
    };
    try {
      await completeCheckout(bus, checkout, context, orderTimeoutMs);
    } catch (error) {
      // A refusal would be refused again on every retry: record it and go on with the next event.
      if (!isRefusal(error)) throw error;
      logger.error({ err: error, eventId: event.id }, 'a checked-out cart could not become an order');
    }
  }
}

const isRefusal = (error: unknown): boolean =>
  error instanceof ValidationError || error instanceof RuleViolation || error instanceof OrderRuleViolation;
