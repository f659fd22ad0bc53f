import { assertNever } from '../shared/assertNever.js';
import type { Decider, DomainEvent } from '../shared/decider.js';
import { ValidationError } from '../shared/errors.js';

export const RESTOCK_MAX_QUANTITY = 1_000_000;

export const inventoryStreamId = (productId: string): string => `inventory-${productId}`;

// Events

export interface StockRestockedData {
  productId: string;
  quantity: number;
  at: string;
}

export interface StockReservedData {
  productId: string;
  orderId: string;
  quantity: number;
  at: string;
}

export interface ReservationReleasedData {
  productId: string;
  orderId: string;
  quantity: number;
  at: string;
}

export interface ReservationCommittedData {
  productId: string;
  orderId: string;
  quantity: number;
  at: string;
}

/** Not enough was available: the order's checkout cannot go on with this product. */
export interface ReservationRejectedData {
  productId: string;
  orderId: string;
  quantity: number;
  available: number;
  at: string;
}

/** What an order took from stock came back, the order cancelled after it was confirmed. */
export interface StockReturnedData {
  productId: string;
  orderId: string;
  quantity: number;
  at: string;
}

export type StockRestocked = DomainEvent<'StockRestocked', StockRestockedData>;
export type StockReserved = DomainEvent<'StockReserved', StockReservedData>;
export type ReservationReleased = DomainEvent<'ReservationReleased', ReservationReleasedData>;
export type ReservationCommitted = DomainEvent<'ReservationCommitted', ReservationCommittedData>;
export type ReservationRejected = DomainEvent<'ReservationRejected', ReservationRejectedData>;
export type StockReturned = DomainEvent<'StockReturned', StockReturnedData>;

export type InventoryEvent =
  | StockRestocked
  | StockReserved
  | ReservationReleased
  | ReservationCommitted
  | ReservationRejected
  | StockReturned;

// Commands

export interface Restock {
  type: 'Restock';
  productId: string;
  quantity: number;
  now: string;
}

export interface ReserveStock {
  type: 'ReserveStock';
  productId: string;
  orderId: string;
  quantity: number;
  now: string;
}

export interface ReleaseReservation {
  type: 'ReleaseReservation';
  productId: string;
  orderId: string;
  now: string;
}

export interface CommitReservation {
  type: 'CommitReservation';
  productId: string;
  orderId: string;
  now: string;
}

export interface ReturnStock {
  type: 'ReturnStock';
  productId: string;
  orderId: string;
  now: string;
}

export type InventoryCommand = Restock | ReserveStock | ReleaseReservation | CommitReservation | ReturnStock;

// State

export interface TrackedInventory {
  status: 'Tracked';
  productId: string;
  onHand: number;
  /** Quantity held for each order id. */
  reserved: ReadonlyMap<string, number>;
  /** Quantity each order took from stock, until it is returned. */
  committed: ReadonlyMap<string, number>;
}

/** Untracked: no stock was ever recorded for the product, so nothing is on hand or reserved. */
export type Inventory = { status: 'Untracked' } | TrackedInventory;

export const initialState: Inventory = { status: 'Untracked' };

export interface InventoryView {
  onHand: number;
  reserved: number;
  available: number;
}

export function inventoryView(state: Inventory): InventoryView {
  if (state.status === 'Untracked') return { onHand: 0, reserved: 0, available: 0 };
  let reserved = 0;
  for (const quantity of state.reserved.values()) reserved += quantity;
  return { onHand: state.onHand, reserved, available: state.onHand - reserved };
}

const tracked = (state: Inventory, productId: string): TrackedInventory =>
  state.status === 'Tracked'
    ? state
    : { status: 'Tracked', productId, onHand: 0, reserved: new Map(), committed: new Map() };

function withoutOrder(quantities: ReadonlyMap<string, number>, orderId: string): ReadonlyMap<string, number> {
  const remaining = new Map(quantities);
  remaining.delete(orderId);
  return remaining;
}

export const evolve = (state: Inventory, event: InventoryEvent): Inventory => {
  const current = tracked(state, event.data.productId);
  switch (event.type) {
    case 'StockRestocked':
      return { ...current, onHand: current.onHand + event.data.quantity };
    case 'StockReserved':
      return {
        ...current,
        reserved: new Map(current.reserved).set(event.data.orderId, event.data.quantity),
      };
    case 'ReservationReleased':
      return { ...current, reserved: withoutOrder(current.reserved, event.data.orderId) };
    case 'ReservationCommitted':
      return {
        ...current,
        onHand: current.onHand - event.data.quantity,
        reserved: withoutOrder(current.reserved, event.data.orderId),
        committed: new Map(current.committed).set(event.data.orderId, event.data.quantity),
      };
    case 'ReservationRejected':
      return current;
    case 'StockReturned':
      return {
        ...current,
        onHand: current.onHand + event.data.quantity,
        committed: withoutOrder(current.committed, event.data.orderId),
      };
    default:
      return assertNever(event);
  }
};

const reservedFor = (state: Inventory, orderId: string): number | undefined =>
  state.status === 'Tracked' ? state.reserved.get(orderId) : undefined;

export const decide = (command: InventoryCommand, state: Inventory): InventoryEvent[] => {
  switch (command.type) {
    case 'Restock': {
      const { productId, quantity, now } = command;
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > RESTOCK_MAX_QUANTITY) {
        throw new ValidationError('quantity', `must be a whole number from 1 to ${RESTOCK_MAX_QUANTITY}`);
      }
      return [{ type: 'StockRestocked', data: { productId, quantity, at: now } }];
    }
    case 'ReserveStock': {
      const { productId, orderId, quantity, now } = command;
      if (!Number.isSafeInteger(quantity) || quantity < 1) {
        throw new ValidationError('quantity', 'must be a whole number of at least 1');
      }
      // The checkout saga may deliver the same step twice; the first reservation stands, and what
      // the order took already is not reserved again.
      if (reservedFor(state, orderId) !== undefined) return [];
      if (state.status === 'Tracked' && state.committed.has(orderId)) return [];
      const { available } = inventoryView(state);
      // Recorded, not refused: the checkout saga cancels the order on this fact, and it must
      // survive a crash like every other step.
      if (available < quantity) {
        return [{ type: 'ReservationRejected', data: { productId, orderId, quantity, available, at: now } }];
      }
      return [{ type: 'StockReserved', data: { productId, orderId, quantity, at: now } }];
    }
    case 'ReleaseReservation': {
      const { productId, orderId, now } = command;
      const quantity = reservedFor(state, orderId);
      if (quantity === undefined) return [];
      return [{ type: 'ReservationReleased', data: { productId, orderId, quantity, at: now } }];
    }
    case 'CommitReservation': {
      const { productId, orderId, now } = command;
      const quantity = reservedFor(state, orderId);
      if (quantity === undefined) return [];
      return [{ type: 'ReservationCommitted', data: { productId, orderId, quantity, at: now } }];
    }
    case 'ReturnStock': {
      const { productId, orderId, now } = command;
      const quantity = state.status === 'Tracked' ? state.committed.get(orderId) : undefined;
      if (quantity === undefined) return [];
      return [{ type: 'StockReturned', data: { productId, orderId, quantity, at: now } }];
    }
    default:
      return assertNever(command);
  }
};

export const inventoryDecider: Decider<InventoryCommand, InventoryEvent, Inventory> = {
  decide,
  evolve,
  initialState,
};
