import { LRUCache } from 'lru-cache';
import {
  type CheckoutAction,
  type CheckoutInput,
  type CheckoutProcess,
  type CheckoutSettings,
  decide,
  evolve,
  initialCheckout,
  orderIdOf,
} from '../../domain/checkout/checkoutProcess.js';
import { categoryOfEventType } from '../../domain/shopEvents.js';
import type { Consumer } from '../../projections/consumer.js';
import type { CommandEnvironment } from '../commandEnvironment.js';
import type { StoredEvent } from '../storedEvents.js';
import { type CheckoutCause, sendCheckoutCommand, type Written } from './checkoutCommands.js';
import { type DeadlineChange, loadProcesses, saveCheckouts } from './checkoutTables.js';

export const CHECKOUT_SAGA = 'checkout-saga';

/**
 * Every event may send commands before the batch commits: a batch of the runner's default size
 * would take seconds, and a crash in them would make the next instance send them all again.
 */
const SAGA_BATCH_SIZE = 100;

/** How the shop counts what checkouts come to. */
export interface CheckoutMetrics {
  /** An order reached an outcome, this long after it was placed. */
  outcome(outcome: 'confirmed' | 'cancelled', reason: string | undefined, seconds: number): void;
}

export interface CheckoutSagaOptions {
  settings: CheckoutSettings;
  metrics?: CheckoutMetrics;
  /** How many orders of one batch are driven at once; the steps of one order take turns. */
  concurrency?: number;
}

type CheckoutEvent = StoredEvent<CheckoutInput['event']>;

const CHECKOUT_CATEGORIES = new Set(['order', 'inventory', 'payment']);

const isCheckoutType = (type: string): boolean => CHECKOUT_CATEGORIES.has(categoryOfEventType(type) ?? '');

// Decoding checked each event's type against its stream's category: the type tells it.
const isCheckoutEvent = (stored: StoredEvent): stored is CheckoutEvent => isCheckoutType(stored.event.type);

/** How many ids of its own events the saga remembers having taken in, the oldest forgotten first. */
const OWN_EVENTS_REMEMBERED = 10_000;

/**
 * The checkout process manager on the subscription runner. Each order's process state is read,
 * moved on by every event of the batch about that order, and written back in the batch's
 * transaction, with the deadlines it recorded: after a crash, state, deadlines and checkpoint are
 * as of the same event. The commands it sends are not in that transaction; their ids derive from
 * the event that caused them, so sending them again when the events come again changes nothing.
 */
export function checkoutSaga(env: CommandEnvironment, options: CheckoutSagaOptions): Consumer {
  const concurrency = options.concurrency ?? 16;
  // Ids of events it appended and took in at once, in a batch that committed: when the
  // subscription brings them round, they are passed over without a transaction. One forgotten, or
  // never known to this process, is handled again, and changes nothing.
  const takenIn = new LRUCache<string, true>({ max: OWN_EVENTS_REMEMBERED });
  return {
    name: CHECKOUT_SAGA,
    maxBatchSize: SAGA_BATCH_SIZE,
    wants: (event) => isCheckoutType(event.type) && !takenIn.has(event.id),
    handle: async (events, tx) => {
      const byOrder = new Map<string, CheckoutEvent[]>();
      for (const stored of events) {
        if (!isCheckoutEvent(stored)) continue;
        const orderId = orderIdOf(stored.event);
        if (orderId === undefined) continue;
        const orderEvents = byOrder.get(orderId);
        if (orderEvents) orderEvents.push(stored);
        else byOrder.set(orderId, [stored]);
      }
      if (byOrder.size === 0) return;
      const known = await loadProcesses(tx.query, [...byOrder.keys()]);
      const changed = new Map<string, CheckoutProcess>();
      const deadlines: DeadlineChange[] = [];
      const own: string[] = [];
      const drive = async (orderId: string, orderEvents: readonly CheckoutEvent[]): Promise<void> => {
        let state = known.get(orderId) ?? initialCheckout;
        const react = async (input: CheckoutInput, cause: CheckoutCause): Promise<void> => {
          const actions = decide(input, state, options.settings);
          const next = evolve(state, input);
          if (next !== state) {
            tell(options.metrics, state, next, input);
            state = next;
            changed.set(orderId, state);
          }
          // What the saga appended it takes in at once rather than when the events come round:
          // each step saves a trip through the store. Delivered later, they decide nothing more.
          for (const written of await act(env, orderId, cause, actions, deadlines)) {
            own.push(written.id);
            await react(
              { event: written.event, recordedAt: env.now().toISOString() },
              { id: written.id, correlationId: cause.correlationId },
            );
          }
        };
        for (const stored of orderEvents) {
          await react(
            { event: stored.event, recordedAt: stored.recordedAt.toISOString() },
            { id: stored.id, correlationId: stored.metadata.correlationId },
          );
        }
      };
      const queue = [...byOrder.entries()];
      await Promise.all(
        Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) await drive(...next);
        }),
      );
      await saveCheckouts(tx.query, changed, deadlines);
      tx.afterCommit(() => {
        for (const id of own) takenIn.set(id, true);
      });
    },
  };
}

async function act(
  env: CommandEnvironment,
  orderId: string,
  cause: CheckoutCause,
  actions: readonly CheckoutAction[],
  deadlines: DeadlineChange[],
): Promise<Written[]> {
  const written: Written[] = [];
  for (const [step, action] of actions.entries()) {
    switch (action.type) {
      case 'Send':
        written.push(...(await sendCheckoutCommand(env, orderId, action.command, cause, step)));
        break;
      case 'Schedule':
        deadlines.push({ orderId, correlationId: cause.correlationId, schedule: action.deadline });
        break;
      case 'Unschedule':
        deadlines.push({ orderId, correlationId: cause.correlationId, unschedule: action.kind });
        break;
    }
  }
  return written;
}

function tell(
  metrics: CheckoutMetrics | undefined,
  before: CheckoutProcess,
  after: CheckoutProcess,
  input: CheckoutInput,
): void {
  if (!metrics || before.status !== 'Active' || after.status !== 'Active' || before.outcome !== 'Pending')
    return;
  const seconds = (Date.parse(input.recordedAt) - Date.parse(after.placedAt)) / 1000;
  if (after.outcome === 'Confirmed') metrics.outcome('confirmed', undefined, seconds);
  if (after.outcome === 'Cancelled' && input.event.type === 'OrderCancelled') {
    metrics.outcome('cancelled', input.event.data.reason, seconds);
  }
}
