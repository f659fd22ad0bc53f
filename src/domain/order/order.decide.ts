import { assertNever } from '../shared/assertNever.js';
import type { Decider } from '../shared/decider.js';
import { NotFound, OrderRuleViolation, RuleViolation, ValidationError } from '../shared/errors.js';
import { type Cents, formatMoney } from '../shared/money.js';
import {
  CANCELLATION_REASONS,
  type CancellationReason,
  evolve,
  type ExistingOrder,
  initialState,
  type Order,
  type OrderEvent,
  type OrderLine,
  type OrderRequest,
  type OrderStatus,
  orderTotalCents,
  type PaymentMethod,
  type ShippingAddress,
  type ShippingAddressInput,
} from './order.js';

export const ORDER_MIN_TOTAL_CENTS = 1_000;
export const ORDER_MAX_TOTAL_CENTS = 1_000_000;

/** Where each status may lead. Anything not listed here is refused. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  Pending: ['Confirmed', 'Cancelled'],
  Confirmed: ['Shipped', 'Cancelled'],
  Shipped: ['Delivered'],
  Delivered: [],
  Cancelled: [],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean =>
  ORDER_TRANSITIONS[from].includes(to);

// Commands

export interface PlaceOrder {
  type: 'PlaceOrder';
  orderId: string;
  userId: string;
  items: readonly OrderLine[];
  shippingAddress: ShippingAddressInput;
  paymentMethod: PaymentMethod;
  idempotencyKey: string;
  requestHash: string;
  now: string;
  expiresAt: string;
}

export interface ConfirmOrder {
  type: 'ConfirmOrder';
  orderId: string;
  now: string;
}

export interface CancelOrder {
  type: 'CancelOrder';
  orderId: string;
  reason: CancellationReason;
  now: string;
}

export interface ShipOrder {
  type: 'ShipOrder';
  orderId: string;
  now: string;
}

export interface DeliverOrder {
  type: 'DeliverOrder';
  orderId: string;
  now: string;
}

export type OrderCommand = PlaceOrder | ConfirmOrder | CancelOrder | ShipOrder | DeliverOrder;

// Rules on input, whatever the state. Field names are the API's, since they reach the client.

const COUNTRY_CODE = /^[A-Z]{2}$/;

function requireText(field: string, value: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') throw new ValidationError(field, 'must not be blank');
  return text;
}

function requireItems(items: readonly OrderLine[]): OrderLine[] {
  if (items.length === 0) throw new ValidationError('items', 'must not be empty');
  const productIds = new Set(items.map((item) => item.productId));
  // Stock is reserved once per product and order, so a product on two lines would be reserved once.
  if (productIds.size !== items.length) throw new ValidationError('items', 'must name each product once');
  return items.map((item, index) => {
    const field = `items[${index}]`;
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1) {
      throw new ValidationError(`${field}.quantity`, 'must be a whole number of at least 1');
    }
    if (!Number.isSafeInteger(item.unitPriceCents) || item.unitPriceCents < 1) {
      throw new ValidationError(`${field}.unitPrice`, 'must be a positive amount');
    }
    return {
      productId: requireText(`${field}.productId`, item.productId),
      productName: requireText(`${field}.productName`, item.productName),
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
    };
  });
}

function requireAddress(address: ShippingAddressInput): ShippingAddress {
  const field = (name: string) => `shippingAddress.${name}`;
  const name = requireText(field('name'), address.name);
  const line1 = requireText(field('line1'), address.line1);
  const line2 = address.line2?.trim() ?? '';
  const city = requireText(field('city'), address.city);
  const postalCode = requireText(field('postalCode'), address.postalCode);
  const country = address.country;
  if (typeof country !== 'string' || !COUNTRY_CODE.test(country)) {
    throw new ValidationError(
      field('country'),
      'must be an ISO 3166-1 alpha-2 code: two capital letters, such as "DE"',
    );
  }
  return { name, line1, line2: line2 === '' ? null : line2, city, postalCode, country };
}

function requirePaymentMethod(method: PaymentMethod): PaymentMethod {
  if (method.type !== 'card') throw new ValidationError('paymentMethod.type', 'must be "card"');
  return { type: 'card', token: requireText('paymentMethod.token', method.token) };
}

function requireTotal(items: readonly OrderLine[]): Cents {
  const totalCents = orderTotalCents(items);
  if (totalCents < ORDER_MIN_TOTAL_CENTS || totalCents > ORDER_MAX_TOTAL_CENTS) {
    throw new OrderRuleViolation(
      `the order total must be from ${formatMoney(ORDER_MIN_TOTAL_CENTS)} to ${formatMoney(ORDER_MAX_TOTAL_CENTS)}, not ${formatMoney(totalCents)}`,
    );
  }
  return totalCents;
}

function requireReason(reason: CancellationReason): CancellationReason {
  if (!CANCELLATION_REASONS.includes(reason)) {
    throw new ValidationError('reason', `must be one of ${CANCELLATION_REASONS.join(', ')}`);
  }
  return reason;
}

/**
 * Whether these lines and this request make an order that may be placed. The cart asks before it
 * is checked out, so that a refused order never empties it.
 */
export function checkOrderRequest(items: readonly OrderLine[], request: OrderRequest): void {
  requireTotal(requireItems(items));
  requireAddress(request.shippingAddress);
  requirePaymentMethod(request.paymentMethod);
}

// Rules on state

function requireOrder(state: Order, orderId: string): ExistingOrder {
  if (state.status === 'Absent') throw new NotFound('order', orderId);
  return state;
}

const describeStatus = (status: OrderStatus): string => status.toLowerCase();

function requireTransition(order: ExistingOrder, to: OrderStatus, verb: string): void {
  if (canTransition(order.status, to)) return;
  if (order.status === to) throw new RuleViolation(`order ${order.id} is already ${describeStatus(to)}`);
  throw new RuleViolation(`cannot ${verb} a ${describeStatus(order.status)} order`);
}

// Decisions

function placeOrder(command: PlaceOrder, state: Order): OrderEvent[] {
  const items = requireItems(command.items);
  const shippingAddress = requireAddress(command.shippingAddress);
  const paymentMethod = requirePaymentMethod(command.paymentMethod);
  // Malformed input is a 400 before a well-formed order that breaks an order rule is a 422.
  const totalCents = requireTotal(items);
  if (state.status !== 'Absent') {
    // The same request arriving again (a retry, a redelivery) places nothing more.
    if (state.requestHash === command.requestHash && state.userId === command.userId) return [];
    throw new RuleViolation(`order ${command.orderId} already exists`);
  }
  return [
    {
      type: 'OrderPlaced',
      data: {
        orderId: command.orderId,
        userId: command.userId,
        items,
        totalCents,
        shippingAddress,
        paymentMethod,
        idempotencyKey: command.idempotencyKey,
        requestHash: command.requestHash,
        placedAt: command.now,
        expiresAt: command.expiresAt,
      },
    },
  ];
}

function confirmOrder(command: ConfirmOrder, state: Order): OrderEvent[] {
  const order = requireOrder(state, command.orderId);
  // The checkout saga may deliver its last step twice; the order stays confirmed once.
  if (order.status === 'Confirmed') return [];
  requireTransition(order, 'Confirmed', 'confirm');
  return [{ type: 'OrderConfirmed', data: { orderId: order.id, at: command.now } }];
}

function cancelOrder(command: CancelOrder, state: Order): OrderEvent[] {
  const reason = requireReason(command.reason);
  const order = requireOrder(state, command.orderId);
  requireTransition(order, 'Cancelled', 'cancel');
  if (reason === 'expired') {
    if (order.status !== 'Pending') {
      throw new RuleViolation(`only a pending order expires, not a ${describeStatus(order.status)} one`);
    }
    if (Date.parse(command.now) < Date.parse(order.expiresAt)) {
      throw new RuleViolation(`order ${order.id} does not expire before ${order.expiresAt}`);
    }
  }
  return [{ type: 'OrderCancelled', data: { orderId: order.id, reason, at: command.now } }];
}

function shipOrder(command: ShipOrder, state: Order): OrderEvent[] {
  const order = requireOrder(state, command.orderId);
  requireTransition(order, 'Shipped', 'ship');
  return [{ type: 'OrderShipped', data: { orderId: order.id, at: command.now } }];
}

function deliverOrder(command: DeliverOrder, state: Order): OrderEvent[] {
  const order = requireOrder(state, command.orderId);
  requireTransition(order, 'Delivered', 'deliver');
  return [{ type: 'OrderDelivered', data: { orderId: order.id, at: command.now } }];
}

export const decide = (command: OrderCommand, state: Order): OrderEvent[] => {
  switch (command.type) {
    case 'PlaceOrder':
      return placeOrder(command, state);
    case 'ConfirmOrder':
      return confirmOrder(command, state);
    case 'CancelOrder':
      return cancelOrder(command, state);
    case 'ShipOrder':
      return shipOrder(command, state);
    case 'DeliverOrder':
      return deliverOrder(command, state);
    default:
      return assertNever(command);
  }
};

export const orderDecider: Decider<OrderCommand, OrderEvent, Order> = {
  decide,
  evolve,
  initialState,
};
