import { assertNever } from '../shared/assertNever.js';
import type { DomainEvent } from '../shared/decider.js';
import type { Cents } from '../shared/money.js';

export const orderStreamId = (orderId: string): string => `order-${orderId}`;

export interface OrderLine {
  productId: string;
  productName: string;
  quantity: number;
  unitPriceCents: Cents;
}

/** `line2` is null rather than missing, so that the event reads back exactly as written. */
export interface ShippingAddress {
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  postalCode: string;
  country: string;
}

export interface PaymentMethod {
  type: 'card';
  token: string;
}

/** The address as the customer typed it: `line2` may be left out. */
export interface ShippingAddressInput {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

/**
 * What the customer asked for when placing an order from their cart. The cart records it when it
 * is checked out, so that the order can be placed from the cart's stream alone.
 */
export interface OrderRequest {
  idempotencyKey: string;
  /** A digest of the request body: the same key with another body is refused. */
  requestHash: string;
  shippingAddress: ShippingAddressInput;
  paymentMethod: PaymentMethod;
}

export const CANCELLATION_REASONS = [
  'out_of_stock',
  'payment_declined',
  'payment_failed',
  'expired',
  'customer_cancelled',
] as const;

export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export const orderTotalCents = (items: readonly OrderLine[]): Cents =>
  items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);

// Events. `userId` names whose personal data `shippingAddress` is (see personalData.ts): keep both top-level.

export interface OrderPlacedData {
  orderId: string;
  userId: string;
  items: OrderLine[];
  totalCents: Cents;
  shippingAddress: ShippingAddress;
  paymentMethod: PaymentMethod;
  idempotencyKey: string;
  requestHash: string;
  placedAt: string;
  /** A pending order not confirmed by then is cancelled as expired. */
  expiresAt: string;
}

export interface OrderConfirmedData {
  orderId: string;
  at: string;
}

export interface OrderCancelledData {
  orderId: string;
  reason: CancellationReason;
  at: string;
}

export interface OrderShippedData {
  orderId: string;
  at: string;
}

export interface OrderDeliveredData {
  orderId: string;
  at: string;
}

export type OrderPlaced = DomainEvent<'OrderPlaced', OrderPlacedData>;
export type OrderConfirmed = DomainEvent<'OrderConfirmed', OrderConfirmedData>;
export type OrderCancelled = DomainEvent<'OrderCancelled', OrderCancelledData>;
export type OrderShipped = DomainEvent<'OrderShipped', OrderShippedData>;
export type OrderDelivered = DomainEvent<'OrderDelivered', OrderDeliveredData>;

export type OrderEvent = OrderPlaced | OrderConfirmed | OrderCancelled | OrderShipped | OrderDelivered;

// State

export interface OrderDetails {
  id: string;
  userId: string;
  items: readonly OrderLine[];
  totalCents: Cents;
  shippingAddress: ShippingAddress;
  paymentMethod: PaymentMethod;
  idempotencyKey: string;
  requestHash: string;
  placedAt: string;
  updatedAt: string;
  expiresAt: string;
}

export interface PendingOrder extends OrderDetails {
  status: 'Pending';
}

export interface ConfirmedOrder extends OrderDetails {
  status: 'Confirmed';
}

export interface ShippedOrder extends OrderDetails {
  status: 'Shipped';
}

export interface DeliveredOrder extends OrderDetails {
  status: 'Delivered';
}

export interface CancelledOrder extends OrderDetails {
  status: 'Cancelled';
  cancellationReason: CancellationReason;
}

export type ExistingOrder = PendingOrder | ConfirmedOrder | ShippedOrder | DeliveredOrder | CancelledOrder;

export type Order = { status: 'Absent' } | ExistingOrder;

export type OrderStatus = ExistingOrder['status'];

export const initialState: Order = { status: 'Absent' };

/** The status as the API and the read models spell it. */
export type OrderStatusCode = 'PENDING' | 'CONFIRMED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED';

const STATUS_CODE_OF: Readonly<Record<OrderStatus, OrderStatusCode>> = {
  Pending: 'PENDING',
  Confirmed: 'CONFIRMED',
  Shipped: 'SHIPPED',
  Delivered: 'DELIVERED',
  Cancelled: 'CANCELLED',
};

export const orderStatusCode = (status: OrderStatus): OrderStatusCode => STATUS_CODE_OF[status];

/** Every status code, as a list filter takes them. */
export const ORDER_STATUS_CODES: readonly OrderStatusCode[] = Object.values(STATUS_CODE_OF);

/**
 * Recorded events are facts and a fold never refuses them; one that cannot apply to an order that
 * does not exist leaves the state as it is.
 */
const amend = (state: Order, at: string, change: (order: OrderDetails) => ExistingOrder): Order =>
  state.status === 'Absent' ? state : { ...change(detailsOf(state)), updatedAt: at };

/** What an order keeps whatever its status; what belongs to one status does not outlive it. */
function detailsOf(order: ExistingOrder): OrderDetails {
  if (order.status === 'Cancelled') {
    const { status: _status, cancellationReason: _reason, ...details } = order;
    return details;
  }
  const { status: _status, ...details } = order;
  return details;
}

export const evolve = (state: Order, event: OrderEvent): Order => {
  switch (event.type) {
    case 'OrderPlaced': {
      const { orderId, placedAt, ...placed } = event.data;
      return { status: 'Pending', id: orderId, ...placed, placedAt, updatedAt: placedAt };
    }
    case 'OrderConfirmed':
      return amend(state, event.data.at, (order) => ({ ...order, status: 'Confirmed' }));
    case 'OrderCancelled':
      return amend(state, event.data.at, (order) => ({
        ...order,
        status: 'Cancelled',
        cancellationReason: event.data.reason,
      }));
    case 'OrderShipped':
      return amend(state, event.data.at, (order) => ({ ...order, status: 'Shipped' }));
    case 'OrderDelivered':
      return amend(state, event.data.at, (order) => ({ ...order, status: 'Delivered' }));
    default:
      return assertNever(event);
  }
};
