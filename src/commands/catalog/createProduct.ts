import { type CommandBus, type CommandContext, handle } from '../commandHandler.js';
import { productDecider, type CreateProduct } from '../../domain/catalog/product.decide.js';
import { productStreamId } from '../../domain/catalog/product.js';
import { inventoryDecider, inventoryStreamId } from '../../domain/inventory/inventory.js';

export interface ProductCreated {
  /** The product stream's revision, for its ETag. */
  revision: number;
  /** The position of the last event written, the product's own. */
  position: number | undefined;
}

/**
 * Creates a product and, when it comes with stock, the stock: two streams, so two appends. The
 * stock goes first, after the product's own rules have passed: a failure between the two leaves
 * stock for a product nobody can see, never a visible product with less stock than it was created
 * with. A client that retries creates a new product, as it would after any failed POST.
 */
export async function createProduct(
  bus: CommandBus,
  command: CreateProduct,
  initialStock: number,
  context: CommandContext,
): Promise<ProductCreated> {
  // Deciding is pure: this refuses an invalid product before anything is written.
  productDecider.decide(command, productDecider.initialState);
  if (initialStock > 0) {
    await handle(
      bus,
      inventoryDecider,
      inventoryStreamId(command.productId),
      { type: 'Restock', productId: command.productId, quantity: initialStock, now: command.now },
      context,
    );
  }
  const created = await handle(bus, productDecider, productStreamId(command.productId), command, context);
  return { revision: created.revision, position: created.position };
}
