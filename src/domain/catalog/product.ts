import { assertNever } from '../shared/assertNever.js';
import type { DomainEvent } from '../shared/decider.js';
import type { Cents } from '../shared/money.js';

export const productStreamId = (productId: string): string => `product-${productId}`;

// Events. Optional fields are null rather than missing, so that an event reads back exactly as written.

export interface ProductCreatedData {
  productId: string;
  name: string;
  description: string | null;
  priceCents: Cents;
  categoryId: string | null;
  imageUrl: string | null;
  createdAt: string;
}

export interface ProductRenamedData {
  productId: string;
  name: string;
  at: string;
}

export interface ProductDescribedData {
  productId: string;
  description: string | null;
  at: string;
}

export interface ProductRepricedData {
  productId: string;
  priceCents: Cents;
  at: string;
}

export interface ProductImageChangedData {
  productId: string;
  imageUrl: string | null;
  at: string;
}

export interface ProductDeactivatedData {
  productId: string;
  at: string;
}

export interface ProductActivatedData {
  productId: string;
  at: string;
}

export type ProductCreated = DomainEvent<'ProductCreated', ProductCreatedData>;
export type ProductRenamed = DomainEvent<'ProductRenamed', ProductRenamedData>;
export type ProductDescribed = DomainEvent<'ProductDescribed', ProductDescribedData>;
export type ProductRepriced = DomainEvent<'ProductRepriced', ProductRepricedData>;
export type ProductImageChanged = DomainEvent<'ProductImageChanged', ProductImageChangedData>;
export type ProductDeactivated = DomainEvent<'ProductDeactivated', ProductDeactivatedData>;
export type ProductActivated = DomainEvent<'ProductActivated', ProductActivatedData>;

export type ProductEvent =
  | ProductCreated
  | ProductRenamed
  | ProductDescribed
  | ProductRepriced
  | ProductImageChanged
  | ProductDeactivated
  | ProductActivated;

// State

export interface ProductDetails {
  id: string;
  name: string;
  description: string | null;
  priceCents: Cents;
  categoryId: string | null;
  imageUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ActiveProduct extends ProductDetails {
  status: 'Active';
}

export interface InactiveProduct extends ProductDetails {
  status: 'Inactive';
}

export type ExistingProduct = ActiveProduct | InactiveProduct;

export type Product = { status: 'Absent' } | ExistingProduct;

export const initialState: Product = { status: 'Absent' };

/**
 * Recorded events are facts and a fold never refuses them; one that cannot apply to a product that
 * does not exist leaves the state as it is.
 */
const amend = (state: Product, at: string, change: (product: ExistingProduct) => ExistingProduct): Product =>
  state.status === 'Absent' ? state : { ...change(state), updatedAt: at };

export const evolve = (state: Product, event: ProductEvent): Product => {
  switch (event.type) {
    case 'ProductCreated': {
      const { productId, createdAt, ...details } = event.data;
      return { status: 'Active', id: productId, ...details, createdAt, updatedAt: createdAt };
    }
    case 'ProductRenamed':
      return amend(state, event.data.at, (product) => ({ ...product, name: event.data.name }));
    case 'ProductDescribed':
      return amend(state, event.data.at, (product) => ({ ...product, description: event.data.description }));
    case 'ProductRepriced':
      return amend(state, event.data.at, (product) => ({ ...product, priceCents: event.data.priceCents }));
    case 'ProductImageChanged':
      return amend(state, event.data.at, (product) => ({ ...product, imageUrl: event.data.imageUrl }));
    case 'ProductDeactivated':
      return amend(state, event.data.at, (product) => ({ ...product, status: 'Inactive' }));
    case 'ProductActivated':
      return amend(state, event.data.at, (product) => ({ ...product, status: 'Active' }));
    default:
      return assertNever(event);
  }
};
