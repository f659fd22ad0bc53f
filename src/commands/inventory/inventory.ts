import { inventoryView, type InventoryView } from '../../domain/inventory/inventory.js';
import { inventories } from '../aggregates.js';
import type { CommandEnvironment, Written } from '../commandEnvironment.js';
import { type CommandContext, handle, loadState } from '../commandHandler.js';
import { existingProduct } from '../catalog/product.js';

export type StockLevel = Written & InventoryView & { productId: string };

/**
 * Adds stock to a product that exists. Restocks add up whatever came between, so without If-Match
 * a lost race is simply decided again.
 */
export async function restock(
  env: CommandEnvironment,
  input: { productId: string; quantity: number; ifMatch?: number | undefined },
  context: CommandContext,
): Promise<StockLevel> {
  const { productId } = input;
  await existingProduct(env, productId);
  const handled = await handle(env.streams, inventories, {
    id: productId,
    command: { type: 'Restock', productId, quantity: input.quantity, now: env.now().toISOString() },
    context,
    ...(input.ifMatch === undefined ? { retryOnConflict: true } : { ifMatch: input.ifMatch }),
  });
  return {
    productId,
    revision: handled.revision,
    position: handled.position,
    ...inventoryView(handled.state),
  };
}

/** A product's stock: none until it is first restocked. */
export async function readStockLevel(env: CommandEnvironment, productId: string): Promise<StockLevel> {
  await existingProduct(env, productId);
  const { state, revision, position } = await loadState(env.streams, inventories, productId);
  return { productId, revision, position, ...inventoryView(state) };
}
