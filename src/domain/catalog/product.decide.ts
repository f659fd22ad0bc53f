import { assertNever } from '../shared/assertNever.js';
import type { Decider } from '../shared/decider.js';
import { NotFound, RuleViolation, ValidationError } from '../shared/errors.js';
import { type Cents, formatMoney } from '../shared/money.js';
import { evolve, type ExistingProduct, initialState, type Product, type ProductEvent } from './product.js';
import { characterCount, requireName } from './text.js';

export const PRODUCT_NAME_MAX_LENGTH = 255;
export const PRODUCT_DESCRIPTION_MAX_LENGTH = 5000;
export const PRODUCT_IMAGE_URL_MAX_LENGTH = 2048;
export const PRODUCT_MIN_PRICE_CENTS = 1;
export const PRODUCT_MAX_PRICE_CENTS = 100_000_000;

// Commands

export interface CreateProduct {
  type: 'CreateProduct';
  productId: string;
  name: string;
  description?: string;
  priceCents: Cents;
  categoryId?: string;
  imageUrl?: string;
  now: string;
}

/** A field left out is kept as it is; `null` clears an optional field. */
export interface ProductChanges {
  name?: string;
  description?: string | null;
  priceCents?: Cents;
  imageUrl?: string | null;
  active?: boolean;
}

export interface UpdateProduct {
  type: 'UpdateProduct';
  productId: string;
  changes: ProductChanges;
  now: string;
}

export type ProductCommand = CreateProduct | UpdateProduct;

// Rules on input, whatever the state. Field names are the API's, since they reach the client.

function requirePrice(priceCents: Cents): Cents {
  if (
    !Number.isInteger(priceCents) ||
    priceCents < PRODUCT_MIN_PRICE_CENTS ||
    priceCents > PRODUCT_MAX_PRICE_CENTS
  ) {
    throw new ValidationError(
      'price',
      `must be from ${formatMoney(PRODUCT_MIN_PRICE_CENTS)} to ${formatMoney(PRODUCT_MAX_PRICE_CENTS)}`,
    );
  }
  return priceCents;
}

function requireDescription(description: string): string {
  if (characterCount(description) > PRODUCT_DESCRIPTION_MAX_LENGTH) {
    throw new ValidationError(
      'description',
      `must be at most ${PRODUCT_DESCRIPTION_MAX_LENGTH} characters long`,
    );
  }
  return description;
}

function requireImageUrl(imageUrl: string): string {
  const message = `must be an http or https URL of at most ${PRODUCT_IMAGE_URL_MAX_LENGTH} characters`;
  // The URL parser quietly strips or encodes whitespace; refuse it so the stored URL is the one given.
  if (imageUrl.length > PRODUCT_IMAGE_URL_MAX_LENGTH || /\s/.test(imageUrl)) {
    throw new ValidationError('imageUrl', message);
  }
  let url: URL;
  try {
    url = new URL(imageUrl);
  } catch {
    throw new ValidationError('imageUrl', message);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ValidationError('imageUrl', message);
  }
  return imageUrl;
}

const nullable = <T>(value: T | null, require: (value: T) => T): T | null =>
  value === null ? null : require(value);

// Decisions

function createProduct(command: CreateProduct, state: Product): ProductEvent[] {
  const name = requireName(command.name, PRODUCT_NAME_MAX_LENGTH);
  const priceCents = requirePrice(command.priceCents);
  const description = command.description === undefined ? null : requireDescription(command.description);
  const imageUrl = command.imageUrl === undefined ? null : requireImageUrl(command.imageUrl);
  if (state.status !== 'Absent') throw new RuleViolation(`product ${command.productId} already exists`);
  return [
    {
      type: 'ProductCreated',
      data: {
        productId: command.productId,
        name,
        description,
        priceCents,
        categoryId: command.categoryId ?? null,
        imageUrl,
        createdAt: command.now,
      },
    },
  ];
}

function updateProduct(command: UpdateProduct, state: Product): ProductEvent[] {
  const { changes } = command;
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new ValidationError(
      'changes',
      'must change at least one of name, description, price, imageUrl, active',
    );
  }
  const name = changes.name === undefined ? undefined : requireName(changes.name, PRODUCT_NAME_MAX_LENGTH);
  const description =
    changes.description === undefined ? undefined : nullable(changes.description, requireDescription);
  const priceCents = changes.priceCents === undefined ? undefined : requirePrice(changes.priceCents);
  const imageUrl = changes.imageUrl === undefined ? undefined : nullable(changes.imageUrl, requireImageUrl);
  if (state.status === 'Absent') throw new NotFound('product', command.productId);

  const productId = state.id;
  const at = command.now;
  const events: ProductEvent[] = [];
  if (name !== undefined && name !== state.name) {
    events.push({ type: 'ProductRenamed', data: { productId, name, at } });
  }
  if (description !== undefined && description !== state.description) {
    events.push({ type: 'ProductDescribed', data: { productId, description, at } });
  }
  if (priceCents !== undefined && priceCents !== state.priceCents) {
    events.push({ type: 'ProductRepriced', data: { productId, priceCents, at } });
  }
  if (imageUrl !== undefined && imageUrl !== state.imageUrl) {
    events.push({ type: 'ProductImageChanged', data: { productId, imageUrl, at } });
  }
  if (changes.active !== undefined) events.push(...changeActivity(state, changes.active, at));
  return events;
}

/** Asking for the status a product already has is a conflict, not a no-op: the caller's view is stale. */
function changeActivity(state: ExistingProduct, active: boolean, at: string): ProductEvent[] {
  const productId = state.id;
  switch (state.status) {
    case 'Active':
      if (active) throw new RuleViolation(`product ${productId} is already active`);
      return [{ type: 'ProductDeactivated', data: { productId, at } }];
    case 'Inactive':
      if (!active) throw new RuleViolation(`product ${productId} is already inactive`);
      return [{ type: 'ProductActivated', data: { productId, at } }];
    default:
      return assertNever(state);
  }
}

export const decide = (command: ProductCommand, state: Product): ProductEvent[] => {
  switch (command.type) {
    case 'CreateProduct':
      return createProduct(command, state);
    case 'UpdateProduct':
      return updateProduct(command, state);
    default:
      return assertNever(command);
  }
};

export const productDecider: Decider<ProductCommand, ProductEvent, Product> = {
  decide,
  evolve,
  initialState,
};
