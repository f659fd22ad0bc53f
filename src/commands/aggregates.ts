import { cartStreamId, type Cart, type CartEvent } from '../domain/cart/cart.js';
import { cartDecider, type CartCommand } from '../domain/cart/cart.decide.js';
import {
  type Category,
  type CategoryCommand,
  categoryDecider,
  type CategoryEvent,
  categoryStreamId,
} from '../domain/catalog/category.js';
import { productDecider, type ProductCommand } from '../domain/catalog/product.decide.js';
import { type Product, type ProductEvent, productStreamId } from '../domain/catalog/product.js';
import {
  type Inventory,
  type InventoryCommand,
  inventoryDecider,
  type InventoryEvent,
  inventoryStreamId,
} from '../domain/inventory/inventory.js';
import { orderDecider, type OrderCommand } from '../domain/order/order.decide.js';
import { type Order, type OrderEvent, orderStreamId } from '../domain/order/order.js';
import { paymentDecider, type PaymentCommand } from '../domain/payment/payment.decide.js';
import { type Payment, type PaymentEvent, paymentStreamId } from '../domain/payment/payment.js';
import type { Decider } from '../domain/shared/decider.js';
import type { ShopEvent } from '../domain/shopEvents.js';

/** An aggregate's rules bound to where its events live: one stream per id, named by `streamId`. */
export interface Aggregate<Command, Event extends ShopEvent, State> {
  streamId: (id: string) => string;
  decider: Decider<Command, Event, State>;
  /**
   * Whether a folded state may be kept in memory, so that a command reads only the events after
   * it. Only for aggregates without personal data: erasing a customer's key must reach every copy
   * of their data, and a state kept here would be one more.
   */
  keepFoldedState?: boolean;
}

export const categories: Aggregate<CategoryCommand, CategoryEvent, Category> = {
  streamId: categoryStreamId,
  decider: categoryDecider,
  keepFoldedState: true,
};

export const products: Aggregate<ProductCommand, ProductEvent, Product> = {
  streamId: productStreamId,
  decider: productDecider,
  keepFoldedState: true,
};

/**
 * One stream per product, keyed by the product's id. Every checkout of the product appends to it,
 * so it grows long: its folded state is kept, and a reservation reads only what came since.
 */
export const inventories: Aggregate<InventoryCommand, InventoryEvent, Inventory> = {
  streamId: inventoryStreamId,
  decider: inventoryDecider,
  keepFoldedState: true,
};

/** One cart per customer, keyed by the customer's id. */
export const carts: Aggregate<CartCommand, CartEvent, Cart> = {
  streamId: cartStreamId,
  decider: cartDecider,
};

export const orders: Aggregate<OrderCommand, OrderEvent, Order> = {
  streamId: orderStreamId,
  decider: orderDecider,
};

/** One payment per order, keyed by the order's id. */
export const payments: Aggregate<PaymentCommand, PaymentEvent, Payment> = {
  streamId: paymentStreamId,
  decider: paymentDecider,
};
