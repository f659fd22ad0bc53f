import { assertNever } from '../shared/assertNever.js';
import type { Decider } from '../shared/decider.js';
import { NotFound, ValidationError } from '../shared/errors.js';
import type { Cents } from '../shared/money.js';
import type { OrderRequest } from '../order/order.js';
import { checkOrderRequest } from '../order/order.decide.js';
import {
  type Cart,
  type CartEvent,
  type CartLine,
  cartExpiresAt,
  evolve,
  expiredCart,
  initialState,
} from './cart.js';

export const CART_LINE_MAX_QUANTITY = 50;

// Commands. Each carries the cart's time to live, so that a cart left alone too long is found expired.

interface CartCommandBase {
  userId: string;
  now: string;
  cartTtlMs: number;
}

/** `productName` and `unitPriceCents` are the catalog's at the moment of adding. */
export interface AddCartItem extends CartCommandBase {
  type: 'AddCartItem';
  productId: string;
  productName: string;
  unitPriceCents: Cents;
  quantity: number;
}

/** A quantity of 0 removes the line. */
export interface ChangeCartItemQuantity extends CartCommandBase {
  type: 'ChangeCartItemQuantity';
  productId: string;
  quantity: number;
}

export interface RemoveCartItem extends CartCommandBase {
  type: 'RemoveCartItem';
  productId: string;
}

export interface ClearCart extends CartCommandBase {
  type: 'ClearCart';
}

/** Hands the lines over to the order `orderId` and empties the cart. */
export interface CheckOutCart extends CartCommandBase {
  type: 'CheckOutCart';
  orderId: string;
  request: OrderRequest;
}

export type CartCommand = AddCartItem | ChangeCartItemQuantity | RemoveCartItem | ClearCart | CheckOutCart;

// Rules

function requireQuantity(quantity: number, min: 0 | 1): number {
  if (!Number.isInteger(quantity) || quantity < min || quantity > CART_LINE_MAX_QUANTITY) {
    throw new ValidationError('quantity', `must be a whole number from ${min} to ${CART_LINE_MAX_QUANTITY}`);
  }
  return quantity;
}

const lineOf = (state: Cart, productId: string): CartLine | undefined =>
  state.status === 'Active' ? state.lines.find((line) => line.productId === productId) : undefined;

function requireLine(state: Cart, productId: string): CartLine {
  const line = lineOf(state, productId);
  if (line === undefined) throw new NotFound('cart line', productId);
  return line;
}

// Decisions, each on a cart that has not expired

function addItem(command: AddCartItem, state: Cart): CartEvent[] {
  const { userId, productId, productName, unitPriceCents, now: at } = command;
  const quantity = requireQuantity(command.quantity, 1);
  const line = lineOf(state, productId);
  if (line === undefined) {
    return [
      { type: 'CartItemAdded', data: { userId, productId, productName, unitPriceCents, quantity, at } },
    ];
  }
  const total = line.quantity + quantity;
  if (total > CART_LINE_MAX_QUANTITY) {
    throw new ValidationError(
      'quantity',
      `a line holds at most ${CART_LINE_MAX_QUANTITY}; the cart already holds ${line.quantity} of this product`,
    );
  }
  // Adding more of a product keeps the price it was first added at: the customer saw that price
  // on the line, and a later catalog change must not quietly reprice what is already in the cart.
  return [{ type: 'CartItemQuantityChanged', data: { userId, productId, quantity: total, at } }];
}

function changeQuantity(command: ChangeCartItemQuantity, state: Cart): CartEvent[] {
  const { userId, productId, now: at } = command;
  const quantity = requireQuantity(command.quantity, 0);
  const line = requireLine(state, productId);
  if (quantity === 0) return [{ type: 'CartItemRemoved', data: { userId, productId, at } }];
  if (quantity === line.quantity) return [];
  return [{ type: 'CartItemQuantityChanged', data: { userId, productId, quantity, at } }];
}

function removeItem(command: RemoveCartItem, state: Cart): CartEvent[] {
  const { userId, productId, now: at } = command;
  requireLine(state, productId);
  return [{ type: 'CartItemRemoved', data: { userId, productId, at } }];
}

function clear(command: ClearCart, state: Cart): CartEvent[] {
  if (state.status === 'Empty') return [];
  return [{ type: 'CartCleared', data: { userId: command.userId, at: command.now } }];
}

function checkOut(command: CheckOutCart, state: Cart): CartEvent[] {
  if (state.status === 'Empty') throw new ValidationError('cart', 'is empty');
  const items = state.lines.map((line) => ({ ...line }));
  checkOrderRequest(items, command.request);
  const totalCents = items.reduce((sum, line) => sum + line.unitPriceCents * line.quantity, 0);
  return [
    {
      type: 'CartCheckedOut',
      data: {
        userId: command.userId,
        orderId: command.orderId,
        items,
        totalCents,
        request: command.request,
        at: command.now,
      },
    },
  ];
}

function decideOnLiveCart(command: CartCommand, state: Cart): CartEvent[] {
  switch (command.type) {
    case 'AddCartItem':
      return addItem(command, state);
    case 'ChangeCartItemQuantity':
      return changeQuantity(command, state);
    case 'RemoveCartItem':
      return removeItem(command, state);
    case 'ClearCart':
      return clear(command, state);
    case 'CheckOutCart':
      return checkOut(command, state);
    default:
      return assertNever(command);
  }
}

/**
 * A cart left unchanged for its time to live is expired first, and the command then applies to the
 * empty cart: adding starts afresh, clearing records only the expiry, checking out finds it empty.
 */
export const decide = (command: CartCommand, state: Cart): CartEvent[] => {
  const stale = expiredCart(state, command.now, command.cartTtlMs);
  if (stale === undefined) return decideOnLiveCart(command, state);
  const expired: CartEvent = {
    type: 'CartExpired',
    data: { userId: stale.userId, at: cartExpiresAt(stale, command.cartTtlMs) },
  };
  return [expired, ...decideOnLiveCart(command, evolve(state, expired))];
};

export const cartDecider: Decider<CartCommand, CartEvent, Cart> = {
  decide,
  evolve,
  initialState,
};
