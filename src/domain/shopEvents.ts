import type { CartEvent } from './cart/cart.js';
import type { CategoryEvent } from './catalog/category.js';
import type { ProductEvent } from './catalog/product.js';
import type { InventoryEvent } from './inventory/inventory.js';
import type { OrderEvent } from './order/order.js';
import type { PaymentEvent } from './payment/payment.js';

/** Every event the shop records: what a consumer of the event stream may be handed. */
export type ShopEvent = CategoryEvent | ProductEvent | InventoryEvent | CartEvent | OrderEvent | PaymentEvent;

export type ShopEventType = ShopEvent['type'];

/** The stream category each event type is recorded in; the compiler holds it to the union. */
const CATEGORY_OF: { readonly [Type in ShopEventType]: string } = {
  CategoryCreated: 'category',
  ProductCreated: 'product',
  ProductRenamed: 'product',
  ProductDescribed: 'product',
  ProductRepriced: 'product',
  ProductImageChanged: 'product',
  ProductDeactivated: 'product',
  ProductActivated: 'product',
  StockRestocked: 'inventory',
  StockReserved: 'inventory',
  ReservationReleased: 'inventory',
  ReservationCommitted: 'inventory',
  ReservationRejected: 'inventory',
  StockReturned: 'inventory',
  CartItemAdded: 'cart',
  CartItemQuantityChanged: 'cart',
  CartItemRemoved: 'cart',
  CartCleared: 'cart',
  CartCheckedOut: 'cart',
  CartExpired: 'cart',
  OrderPlaced: 'order',
  OrderConfirmed: 'order',
  OrderCancelled: 'order',
  OrderShipped: 'order',
  OrderDelivered: 'order',
  PaymentRequested: 'payment',
  PaymentCaptured: 'payment',
  PaymentDeclined: 'payment',
  PaymentFailed: 'payment',
  PaymentAttemptFailed: 'payment',
  PaymentRefunded: 'payment',
};

/** The version of every event's data schema the code reads; older versions are upcast first. */
export const CURRENT_SCHEMA_VERSION = 1;

/** The category an event type belongs in, or undefined for a type the shop does not know. */
export function categoryOfEventType(type: string): string | undefined {
  return Object.hasOwn(CATEGORY_OF, type) ? CATEGORY_OF[type as ShopEventType] : undefined;
}
