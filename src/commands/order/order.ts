import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CartCheckedOut, CartEvent } from '../../domain/cart/cart.js';
import type { CheckOutCart } from '../../domain/cart/cart.decide.js';
import type { OrderCommand, PlaceOrder } from '../../domain/order/order.decide.js';
import type { ExistingOrder, Order, OrderRequest } from '../../domain/order/order.js';
import type { Payment } from '../../domain/payment/payment.js';
import { NotFound, ValidationError } from '../../domain/shared/errors.js';
import { canonicalJson } from '../../eventstore/hashChain.js';
import type { JsonValue } from '../../eventstore/eventStore.js';
import { carts, orders, payments } from '../aggregates.js';
import type { CommandEnvironment, Written } from '../commandEnvironment.js';
import { type CommandContext, eventMetadata, handle, load, type LoadedState } from '../commandHandler.js';
import { derivedUuid } from '../derivedIds.js';
import type { EventStreams } from '../eventStreams.js';
import type { StoredEvent } from '../storedEvents.js';

/** The same Idempotency-Key came back with another body. */
export class IdempotencyKeyReused extends Error {
  override readonly name = 'IdempotencyKeyReused';
  constructor(readonly idempotencyKey: string) {
    super(`the Idempotency-Key ${idempotencyKey} was already used for a different request`);
  }
}

export interface PlacedOrder {
  orderId: string;
  /** The position of the order's first event: waiting for it gives read-your-writes. */
  position: number | undefined;
}

/** Who asks to see or change an order: its customer, or an administrator. */
export interface OrderViewer {
  userId: string;
  isAdmin: boolean;
}

/** One key names one order of one customer, so the key alone finds what it placed, across restarts. */
export const orderIdFor = (userId: string, idempotencyKey: string): string =>
  derivedUuid('order', userId, idempotencyKey);

export const requestHashOf = (body: JsonValue): string =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

/** Each event of a placement has one id, whichever path appends it and however often. */
const placementEventId = (orderId: string) => (event: { type: string }) => derivedUuid(event.type, orderId);

/** How many checkouts one process remembers having placed, the oldest forgotten first. */
const PLACED_CHECKOUTS_REMEMBERED = 10_000;

/** Ids of the checkouts whose orders this process has seen placed, per event store. */
const placedCheckouts = new WeakMap<EventStreams, LRUCache<string, true>>();

function placedIn(env: CommandEnvironment): LRUCache<string, true> {
  const placed =
    placedCheckouts.get(env.streams) ?? new LRUCache<string, true>({ max: PLACED_CHECKOUTS_REMEMBERED });
  placedCheckouts.set(env.streams, placed);
  return placed;
}

/**
 * Whether this process saw the order of a checkout placed: the checkout completer then has nothing
 * to do for it. One it does not remember (another process placed it, or it restarted since) is
 * placed again, which changes nothing.
 */
export const wasPlacedHere = (env: CommandEnvironment, checkoutId: string): boolean =>
  placedIn(env).has(checkoutId);

/** A checkout as the order placed from it needs it: the event, its id and its metadata. */
type Checkout = Pick<StoredEvent<CartCheckedOut>, 'event' | 'id' | 'metadata'>;

/**
 * Places an order from the customer's cart in two steps, each idempotent: the cart is checked out
 * with the whole request recorded on it, then the order is placed from that checkout. A placement
 * cut off between the two is completed by the same request sent again, or by `completeCheckout`
 * when the checkout event is delivered, so no cart is lost and none is ordered twice.
 */
export async function placeOrder(
  env: CommandEnvironment,
  input: { userId: string; request: OrderRequest },
  context: CommandContext,
): Promise<PlacedOrder> {
  const { userId, request } = input;
  const orderId = orderIdFor(userId, request.idempotencyKey);
  const order = await load(env.streams, orders, orderId);
  if (order.state.status !== 'Absent') {
    if (order.state.requestHash !== request.requestHash)
      throw new IdempotencyKeyReused(request.idempotencyKey);
    return { orderId, position: order.events[0]?.position };
  }
  const checkout = await checkOutCart(env, userId, orderId, request, context);
  return completeCheckout(env, checkout, order);
}

async function checkOutCart(
  env: CommandEnvironment,
  userId: string,
  orderId: string,
  request: OrderRequest,
  context: CommandContext,
): Promise<Checkout> {
  const cart = await load(env.streams, carts, userId);
  const earlier = checkoutIn(cart.events, orderId, request);
  if (earlier) return earlier;
  const command: CheckOutCart = {
    type: 'CheckOutCart',
    userId,
    orderId,
    request,
    now: env.now().toISOString(),
    cartTtlMs: env.cartTtlMs,
  };
  try {
    // The order's own rules are checked on what the checkout would record before the cart is
    // emptied, so that a request they refuse leaves the cart as it was, not a checkout that can
    // never become an order.
    for (const event of carts.decider.decide(command, cart.state)) {
      if (event.type === 'CartCheckedOut') {
        orders.decider.decide(placeOrderCommand(env, event.data), orders.decider.initialState);
      }
    }
    const eventId = placementEventId(orderId);
    const handled = await handle(env.streams, carts, {
      id: userId,
      command,
      context,
      retryOnConflict: true,
      eventId,
      known: cart,
    });
    const checkedOut = handled.events.find((event) => event.type === 'CartCheckedOut');
    // What was just appended, as the store holds it: no need to read it back.
    if (checkedOut) return { event: checkedOut, id: eventId(checkedOut), metadata: eventMetadata(context) };
  } catch (error) {
    // An identical request checked the cart out first, and left it empty.
    if (!(error instanceof ValidationError) || error.field !== 'cart') throw error;
  }
  const concurrent = checkoutIn((await load(env.streams, carts, userId)).events, orderId, request);
  if (!concurrent) throw new ValidationError('cart', 'is empty');
  return concurrent;
}

/** The cart's checkout for this order, if it has one; one for another request is refused. */
function checkoutIn(
  events: readonly StoredEvent<CartEvent>[],
  orderId: string,
  request: OrderRequest,
): StoredEvent<CartCheckedOut> | undefined {
  const checkout = events.find(
    (stored): stored is StoredEvent<CartCheckedOut> =>
      stored.event.type === 'CartCheckedOut' && stored.event.data.orderId === orderId,
  );
  if (checkout && checkout.event.data.request.requestHash !== request.requestHash) {
    throw new IdempotencyKeyReused(request.idempotencyKey);
  }
  return checkout;
}

function placeOrderCommand(
  env: CommandEnvironment,
  checkout: Pick<CartCheckedOut['data'], 'orderId' | 'userId' | 'items' | 'request' | 'at'>,
): PlaceOrder {
  const { orderId, userId, items, request, at } = checkout;
  return {
    type: 'PlaceOrder',
    orderId,
    userId,
    items,
    shippingAddress: request.shippingAddress,
    paymentMethod: request.paymentMethod,
    idempotencyKey: request.idempotencyKey,
    requestHash: request.requestHash,
    now: at,
    expiresAt: new Date(Date.parse(at) + env.orderTimeoutMs).toISOString(),
  };
}

/**
 * Places the order a checked-out cart was for; placing it again changes nothing. Everything the
 * order's events hold, metadata included, comes from the stored checkout, so the request that
 * checked the cart out and the completer that sees the checkout later append the very same event.
 */
export async function completeCheckout(
  env: CommandEnvironment,
  checkout: Checkout,
  known?: LoadedState<Order>,
): Promise<PlacedOrder> {
  const { data } = checkout.event;
  const { requestId } = checkout.metadata;
  const placed = await handle(env.streams, orders, {
    id: data.orderId,
    command: placeOrderCommand(env, data),
    context: {
      actor: data.userId,
      correlationId: checkout.metadata.correlationId,
      causationId: checkout.id,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    },
    retryOnConflict: true,
    eventId: placementEventId(data.orderId),
    known,
  });
  placedIn(env).set(checkout.id, true);
  // Appended now, OrderPlaced is the stream's only event; placed before, it is the first.
  if (placed.events.length > 0) return { orderId: data.orderId, position: placed.position };
  const [first] = await env.streams.store.readStream(orders.streamId(data.orderId), { maxCount: 1 });
  return { orderId: data.orderId, position: first?.position };
}

export type OrderAnswer = Written & { order: ExistingOrder; payment: Payment };

/** The order, if the viewer may see it: another customer's order is answered as not found. */
export async function readOrder(
  env: CommandEnvironment,
  orderId: string,
  viewer: OrderViewer,
): Promise<OrderAnswer> {
  const { state, revision, position } = await load(env.streams, orders, orderId);
  if (state.status === 'Absent' || (state.userId !== viewer.userId && !viewer.isAdmin)) {
    throw new NotFound('order', orderId);
  }
  const { state: payment } = await load(env.streams, payments, orderId);
  return { order: state, payment, revision, position };
}

/** A change the viewer asks of an order they may see; `ifMatch` pins the revision they saw. */
async function changeOrder(
  env: CommandEnvironment,
  input: { orderId: string; viewer: OrderViewer; ifMatch?: number | undefined },
  command: (now: string) => OrderCommand,
  context: CommandContext,
): Promise<OrderAnswer> {
  const { orderId } = input;
  await readOrder(env, orderId, input.viewer);
  const handled = await handle(env.streams, orders, {
    id: orderId,
    command: command(env.now().toISOString()),
    context,
    ...(input.ifMatch === undefined ? {} : { ifMatch: input.ifMatch }),
  });
  if (handled.state.status === 'Absent') throw new NotFound('order', orderId);
  const { state: payment } = await load(env.streams, payments, orderId);
  return { order: handled.state, payment, revision: handled.revision, position: handled.position };
}

type OrderChange = { orderId: string; viewer: OrderViewer; ifMatch?: number | undefined };

export const cancelOrder = (env: CommandEnvironment, input: OrderChange, context: CommandContext) =>
  changeOrder(
    env,
    input,
    (now) => ({ type: 'CancelOrder', orderId: input.orderId, reason: 'customer_cancelled', now }),
    context,
  );

/** Shipping and delivering are an administrator's: the route lets no one else call them. */
export const shipOrder = (env: CommandEnvironment, input: OrderChange, context: CommandContext) =>
  changeOrder(env, input, (now) => ({ type: 'ShipOrder', orderId: input.orderId, now }), context);

export const deliverOrder = (env: CommandEnvironment, input: OrderChange, context: CommandContext) =>
  changeOrder(env, input, (now) => ({ type: 'DeliverOrder', orderId: input.orderId, now }), context);
