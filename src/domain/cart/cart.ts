import { assertNever } from '../shared/assertNever.js';
import type { DomainEvent } from '../shared/decider.js';
import type { Cents } from '../shared/money.js';
import type { OrderRequest } from '../order/order.js';

/** One cart per customer, so the stream is named after the user. */
export const cartStreamId = (userId: string): string => `cart-${userId}`;

/** A product in the cart, at the catalog price of the moment it was first added. */
export interface CartLine {
  productId: string;
  productName: string;
  unitPriceCents: Cents;
  quantity: number;
}

// Events

/** A product that was not in the cart yet. */
export interface CartItemAddedData extends CartLine {
  userId: string;
  at: string;
}

/** `quantity` is the line's new quantity, never a difference, so folding it twice is harmless. */
export interface CartItemQuantityChangedData {
  userId: string;
  productId: string;
  quantity: number;
  at: string;
}

export interface CartItemRemovedData {
  userId: string;
  productId: string;
  at: string;
}

export interface CartClearedData {
  userId: string;
  at: string;
}

/** The lines became the order's; the cart is empty again. */
export interface CartCheckedOutData {
  userId: string;
  orderId: string;
  items: CartLine[];
  totalCents: Cents;
  /** Everything needed to place the order, should placing it be cut off after this event. */
  request: OrderRequest;
  at: string;
}

/** `at` is the instant the cart expired (its last change plus the time to live), not when it was noticed. */
export interface CartExpiredData {
  userId: string;
  at: string;
}

export type CartItemAdded = DomainEvent<'CartItemAdded', CartItemAddedData>;
export type CartItemQuantityChanged = DomainEvent<'CartItemQuantityChanged', CartItemQuantityChangedData>;
export type CartItemRemoved = DomainEvent<'CartItemRemoved', CartItemRemovedData>;
export type CartCleared = DomainEvent<'CartCleared', CartClearedData>;
export type CartCheckedOut = DomainEvent<'CartCheckedOut', CartCheckedOutData>;
export type CartExpired = DomainEvent<'CartExpired', CartExpiredData>;

export type CartEvent =
  CartItemAdded | CartItemQuantityChanged | CartItemRemoved | CartCleared | CartCheckedOut | CartExpired;

// State

/** Holds at least one line: the cart that loses its last line is empty again. */
export interface ActiveCart {
  status: 'Active';
  userId: string;
  lines: readonly CartLine[];
  updatedAt: string;
}

/** `updatedAt` is when the cart last became empty, null if it never held anything. */
export interface EmptyCart {
  status: 'Empty';
  updatedAt: string | null;
}

export type Cart = EmptyCart | ActiveCart;

export const initialState: Cart = { status: 'Empty', updatedAt: null };

/** When an active cart expires, given the time to live after its last change. */
export const cartExpiresAt = (cart: ActiveCart, ttlMs: number): string =>
  new Date(Date.parse(cart.updatedAt) + ttlMs).toISOString();

/** The active cart, if it has gone unchanged for its time to live by `now`. */
export const expiredCart = (cart: Cart, now: string, ttlMs: number): ActiveCart | undefined =>
  cart.status === 'Active' && Date.parse(now) - Date.parse(cart.updatedAt) >= ttlMs ? cart : undefined;

export interface CartViewLine extends CartLine {
  lineTotalCents: Cents;
}

export interface CartView {
  items: CartViewLine[];
  itemCount: number;
  totalCents: Cents;
  updatedAt: string | null;
}

/** The cart as its owner sees it at `now`: an expired cart is empty even before its expiry is recorded. */
export function cartView(state: Cart, now: string, ttlMs: number): CartView {
  const expired = expiredCart(state, now, ttlMs);
  if (expired !== undefined) {
    return { items: [], itemCount: 0, totalCents: 0, updatedAt: cartExpiresAt(expired, ttlMs) };
  }
  if (state.status === 'Empty') return { items: [], itemCount: 0, totalCents: 0, updatedAt: state.updatedAt };
  const items = state.lines.map((line) => ({ ...line, lineTotalCents: line.unitPriceCents * line.quantity }));
  return {
    items,
    itemCount: items.reduce((sum, line) => sum + line.quantity, 0),
    totalCents: items.reduce((sum, line) => sum + line.lineTotalCents, 0),
    updatedAt: state.updatedAt,
  };
}

const withLines = (userId: string, lines: readonly CartLine[], at: string): Cart =>
  lines.length === 0
    ? { status: 'Empty', updatedAt: at }
    : { status: 'Active', userId, lines, updatedAt: at };

const linesOf = (state: Cart): readonly CartLine[] => (state.status === 'Active' ? state.lines : []);

export const evolve = (state: Cart, event: CartEvent): Cart => {
  switch (event.type) {
    case 'CartItemAdded': {
      const { userId, at, ...line } = event.data;
      return withLines(userId, [...linesOf(state), line], at);
    }
    case 'CartItemQuantityChanged': {
      const { userId, productId, quantity, at } = event.data;
      const lines = linesOf(state).map((line) =>
        line.productId === productId ? { ...line, quantity } : line,
      );
      return withLines(userId, lines, at);
    }
    case 'CartItemRemoved': {
      const { userId, productId, at } = event.data;
      return withLines(
        userId,
        linesOf(state).filter((line) => line.productId !== productId),
        at,
      );
    }
    case 'CartCleared':
    case 'CartCheckedOut':
    case 'CartExpired':
      return { status: 'Empty', updatedAt: event.data.at };
    default:
      return assertNever(event);
  }
};
