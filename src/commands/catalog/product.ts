import { randomUUID } from 'node:crypto';
import type { CreateProduct, ProductChanges } from '../../domain/catalog/product.decide.js';
import type { ExistingProduct } from '../../domain/catalog/product.js';
import { inventoryView } from '../../domain/inventory/inventory.js';
import { NotFound, ValidationError } from '../../domain/shared/errors.js';
import type { Cents } from '../../domain/shared/money.js';
import { inventories, products } from '../aggregates.js';
import type { CommandEnvironment, Written } from '../commandEnvironment.js';
import { type CommandContext, handle, keptPosition, loadState } from '../commandHandler.js';
import { categoryExists } from './category.js';

export interface NewProduct {
  name: string;
  priceCents: Cents;
  description?: string | undefined;
  categoryId?: string | undefined;
  imageUrl?: string | undefined;
  initialStock: number;
}

export type ProductWithStock = Written & { product: ExistingProduct; availableQuantity: number };

/**
 * Creates a product in an existing category (if it names one) and, when it comes with stock, the
 * stock: two streams, so two appends. The stock goes first, after the product's own rules have
 * passed: a failure between the two leaves stock for a product nobody can see, never a visible
 * product with less stock than it was created with. A client that retries creates a new product,
 * as it would after any failed POST.
 */
export async function createProduct(
  env: CommandEnvironment,
  input: NewProduct,
  context: CommandContext,
): Promise<Written & { productId: string }> {
  const productId = randomUUID();
  const now = env.now().toISOString();
  const command: CreateProduct = {
    type: 'CreateProduct',
    productId,
    name: input.name,
    priceCents: input.priceCents,
    now,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.categoryId === undefined ? {} : { categoryId: input.categoryId }),
    ...(input.imageUrl === undefined ? {} : { imageUrl: input.imageUrl }),
  };
  // Deciding is pure: this refuses an invalid product before anything is read or written.
  products.decider.decide(command, products.decider.initialState);
  if (input.categoryId !== undefined && !(await categoryExists(env, input.categoryId))) {
    throw new ValidationError('categoryId', 'no category has this id');
  }
  if (input.initialStock > 0) {
    await handle(env.streams, inventories, {
      id: productId,
      command: { type: 'Restock', productId, quantity: input.initialStock, now },
      context,
    });
  }
  const created = await handle(env.streams, products, { id: productId, command, context });
  return { productId, revision: created.revision, position: created.position };
}

/** Changes what a product's administrator may change; `ifMatch` pins the revision they saw. */
export async function updateProduct(
  env: CommandEnvironment,
  input: { productId: string; changes: ProductChanges; ifMatch?: number | undefined },
  context: CommandContext,
): Promise<ProductWithStock> {
  const { productId } = input;
  const handled = await handle(env.streams, products, {
    id: productId,
    command: { type: 'UpdateProduct', productId, changes: input.changes, now: env.now().toISOString() },
    context,
    ...(input.ifMatch === undefined ? {} : { ifMatch: input.ifMatch }),
  });
  if (handled.state.status === 'Absent') throw new NotFound('product', productId);
  return {
    product: handled.state,
    revision: handled.revision,
    position: handled.position,
    availableQuantity: await availableQuantity(env, productId),
  };
}

async function availableQuantity(env: CommandEnvironment, productId: string): Promise<number> {
  return inventoryView((await loadState(env.streams, inventories, productId)).state).available;
}

export async function existingProduct(
  env: CommandEnvironment,
  productId: string,
): Promise<Written & { product: ExistingProduct }> {
  const { state, revision, position } = await loadState(env.streams, products, productId);
  if (state.status === 'Absent') throw new NotFound('product', productId);
  return { product: state, revision, position };
}

/**
 * The furthest position of the product's and its stock's streams this process has read or
 * written, as far as it keeps their folded states: a read of the catalog's read model waits for
 * it, so that it never answers older than a write this process answered.
 */
export function seenProductPosition(env: CommandEnvironment, productId: string): number {
  return Math.max(
    keptPosition(env.streams, products, productId) ?? 0,
    keptPosition(env.streams, inventories, productId) ?? 0,
  );
}
