import { createHash } from 'node:crypto';
import type { CartCheckedOutData, CartEvent } from '../../domain/cart/cart.js';
import { cartStreamId } from '../../domain/cart/cart.js';
import { cartDecider } from '../../domain/cart/cart.decide.js';
import { orderDecider } from '../../domain/order/order.decide.js';
import { type OrderRequest, orderStreamId } from '../../domain/order/order.js';
import { ValidationError } from '../../domain/shared/errors.js';
import { canonicalJson } from '../../eventstore/hashChain.js';
import type { JsonValue } from '../../eventstore/eventStore.js';
import { type CommandBus, type CommandContext, handle, load } from '../commandHandler.js';
import { derivedUuid } from '../derivedIds.js';

/** The same Idempotency-Key came back with another body. */
export class IdempotencyKeyReused extends Error {
  override readonly name = 'IdempotencyKeyReused';
  constructor(readonly idempotencyKey: string) {
    super(`the Idempotency-Key ${idempotencyKey} was already used for a different request`);
  }
}

export interface PlaceOrderSettings {
  cartTtlMs: number;
  /** A pending order not confirmed by then is cancelled as expired. */
  orderTimeoutMs: number;
}

export interface PlacedOrder {
  orderId: string;
  /** The position of the order's first event: waiting for it gives read-your-writes. */
  position: number | undefined;
}

/** One key names one order of one customer, so the key alone finds what it placed, across restarts. */
export const orderIdFor = (userId: string, idempotencyKey: string): string =>
  derivedUuid('order', userId, idempotencyKey);

export const requestHashOf = (body: JsonValue): string =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

/**
 * Places an order from the customer's cart in two steps, each idempotent: the cart is checked out
 * with the whole request recorded on it, then the order is placed from that checkout. A placement
 * cut off between the two is completed by the same request sent again, or by `completeCheckout`
 * when the checkout event is delivered, so no cart is lost and none is ordered twice.
 */
export async function placeOrder(
  bus: CommandBus,
  userId: string,
  request: OrderRequest,
  context: CommandContext,
  settings: PlaceOrderSettings & { now: string },
): Promise<PlacedOrder> {
  const orderId = orderIdFor(userId, request.idempotencyKey);
  const order = await load(bus, orderDecider, orderStreamId(orderId));
  if (order.state.status !== 'Absent') {
    if (order.state.requestHash !== request.requestHash)
      throw new IdempotencyKeyReused(request.idempotencyKey);
    return { orderId, position: await firstPosition(bus, orderStreamId(orderId)) };
  }
  const checkout = await checkOutCart(bus, userId, orderId, request, context, settings);
  return completeCheckout(bus, checkout, context, settings.orderTimeoutMs);
}

async function checkOutCart(
  bus: CommandBus,
  userId: string,
  orderId: string,
  request: OrderRequest,
  context: CommandContext,
  settings: PlaceOrderSettings & { now: string },
): Promise<CartCheckedOutData> {
  const earlier = await earlierCheckout(bus, userId, orderId, request);
  if (earlier) return earlier;
  try {
    const handled = await handle(
      bus,
      cartDecider,
      cartStreamId(userId),
      { type: 'CheckOutCart', userId, orderId, request, now: settings.now, cartTtlMs: settings.cartTtlMs },
      context,
      { retryOnConflict: true, eventId: (event) => derivedUuid(event.type, orderId) },
    );
    const checkedOut = handled.events.find((event) => event.type === 'CartCheckedOut');
    if (checkedOut) return checkedOut.data;
  } catch (error) {
    // An identical request checked the cart out first, and left it empty.
    if (!(error instanceof ValidationError)) throw error;
  }
  const concurrent = await earlierCheckout(bus, userId, orderId, request);
  if (!concurrent) throw new ValidationError('cart', 'is empty');
  return concurrent;
}

async function earlierCheckout(
  bus: CommandBus,
  userId: string,
  orderId: string,
  request: OrderRequest,
): Promise<CartCheckedOutData | undefined> {
  const { events } = await bus.read(cartStreamId(userId));
  const checkout = (events as CartEvent[]).find(
    (event) => event.type === 'CartCheckedOut' && event.data.orderId === orderId,
  );
  if (checkout?.type !== 'CartCheckedOut') return undefined;
  if (checkout.data.request.requestHash !== request.requestHash) {
    throw new IdempotencyKeyReused(request.idempotencyKey);
  }
  return checkout.data;
}

/** Places the order a checked-out cart was for; placing it again changes nothing. */
export async function completeCheckout(
  bus: CommandBus,
  checkout: CartCheckedOutData,
  context: CommandContext,
  orderTimeoutMs: number,
): Promise<PlacedOrder> {
  const { orderId, userId, items, request, at } = checkout;
  await handle(
    bus,
    orderDecider,
    orderStreamId(orderId),
    {
      type: 'PlaceOrder',
      orderId,
      userId,
      items,
      shippingAddress: request.shippingAddress,
      paymentMethod: request.paymentMethod,
      idempotencyKey: request.idempotencyKey,
      requestHash: request.requestHash,
      now: at,
      expiresAt: new Date(Date.parse(at) + orderTimeoutMs).toISOString(),
    },
    context,
    { retryOnConflict: true, eventId: (event) => derivedUuid(event.type, orderId) },
  );
  return { orderId, position: await firstPosition(bus, orderStreamId(orderId)) };
}

async function firstPosition(bus: CommandBus, streamId: string): Promise<number | undefined> {
  const [first] = await bus.store.readStream(streamId, { maxCount: 1 });
  return first?.position;
}
