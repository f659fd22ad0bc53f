import type { CommandEnvironment } from '../commandEnvironment.js';
import type { Consumer } from '../../projections/consumer.js';
import { completeCheckout, wasPlacedHere } from './order.js';

/**
 * Places the order of every checked-out cart. The request that checked the cart out normally placed
 * it already (in this process, it is not even looked at), and this changes nothing; it matters when
 * that request was cut off in between, so that the cart's lines always end up in an order. Its effects are appends with derived ids, so a
 * repeat after a crash appends nothing.
 */
export function checkoutCompleter(env: CommandEnvironment): Consumer {
  return {
    name: 'checkout-completer',
    category: 'cart',
    wants: (event) => event.type === 'CartCheckedOut' && !wasPlacedHere(env, event.id),
    handle: async (events) => {
      for (const stored of events) {
        if (stored.event.type !== 'CartCheckedOut') continue;
        // A forgotten customer's request reads as erased: there is nothing left to place.
        if (typeof stored.event.data.request !== 'object') continue;
        await completeCheckout(env, { ...stored, event: stored.event });
      }
    },
  };
}
