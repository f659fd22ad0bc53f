import { randomUUID } from 'node:crypto';
import { type RequestHandler, Router } from 'express';
import { IsBoolean, IsDefined, IsInt, IsOptional, IsUUID, Max, Min, ValidateIf } from 'class-validator';
import { type CommandBus, handle, load } from '../../commands/commandHandler.js';
import { categoryDecider, categoryStreamId } from '../../domain/catalog/category.js';
import { productDecider } from '../../domain/catalog/product.decide.js';
import { type ExistingProduct, productStreamId } from '../../domain/catalog/product.js';
import {
  type Inventory,
  inventoryDecider,
  inventoryStreamId,
  inventoryView,
  RESTOCK_MAX_QUANTITY,
} from '../../domain/inventory/inventory.js';
import { NotFound, ValidationError } from '../../domain/shared/errors.js';
import { formatMoney, parseMoney } from '../../domain/shared/money.js';
import { createProduct } from '../../commands/catalog/createProduct.js';
import { commandContext } from '../commandContext.js';
import { answerCommand, ifMatch, Omittable, validBody } from '../http.js';
import { pathId } from '../pathIds.js';
import { IsText } from '../text.js';

class CreateCategoryBody {
  @IsText()
  name!: string;
}

class CreateProductBody {
  @IsText()
  name!: string;

  @Omittable()
  @IsText({ multiline: true, blank: true })
  description?: string;

  /** A string or a number with at most two decimals; parseMoney says which. */
  @IsDefined()
  price!: unknown;

  @Omittable()
  @IsUUID()
  categoryId?: string;

  @Omittable()
  @IsText()
  imageUrl?: string;

  @Omittable()
  @IsInt()
  @Min(0)
  @Max(RESTOCK_MAX_QUANTITY)
  initialStock?: number;
}

class UpdateProductBody {
  @Omittable()
  @IsText()
  name?: string;

  @ValidateIf((_body, value) => value !== null)
  @IsOptional()
  @IsText({ multiline: true, blank: true })
  description?: string | null;

  @Omittable()
  @IsDefined()
  price?: unknown;

  @ValidateIf((_body, value) => value !== null)
  @IsOptional()
  @IsText()
  imageUrl?: string | null;

  @Omittable()
  @IsBoolean()
  active?: boolean;
}

class RestockBody {
  @IsInt()
  @Min(1)
  @Max(RESTOCK_MAX_QUANTITY)
  quantity!: number;
}

export interface CatalogDependencies {
  bus: CommandBus;
  /** Middleware that lets only administrators through (authentication included). */
  adminOnly: RequestHandler[];
  now: () => Date;
}

function productBody(product: ExistingProduct, availableQuantity: number) {
  return {
    id: product.id,
    name: product.name,
    description: product.description,
    price: formatMoney(product.priceCents),
    categoryId: product.categoryId,
    imageUrl: product.imageUrl,
    active: product.status === 'Active',
    availableQuantity,
    createdAt: product.createdAt,
    updatedAt: product.updatedAt,
  };
}

export function catalogRoutes({ bus, adminOnly, now }: CatalogDependencies): Router {
  const router = Router();

  async function readInventory(productId: string): Promise<Inventory> {
    return (await load(bus, inventoryDecider, inventoryStreamId(productId))).state;
  }

  async function existingProduct(productId: string): Promise<{ product: ExistingProduct; revision: number }> {
    const { state, revision } = await load(bus, productDecider, productStreamId(productId));
    if (state.status === 'Absent') throw new NotFound('product', productId);
    return { product: state, revision };
  }

  router.post('/api/v1/categories', ...adminOnly, async (request, response) => {
    const body = await validBody(CreateCategoryBody, request.body);
    const categoryId = randomUUID();
    const handled = await handle(
      bus,
      categoryDecider,
      categoryStreamId(categoryId),
      { type: 'CreateCategory', categoryId, name: body.name, now: now().toISOString() },
      commandContext(request),
    );
    answerCommand(response, handled, 201, { id: categoryId });
  });

  router.post('/api/v1/products', ...adminOnly, async (request, response) => {
    const body = await validBody(CreateProductBody, request.body);
    const priceCents = parseMoney('price', body.price);
    if (body.categoryId !== undefined) {
      const { revision } = await bus.read(categoryStreamId(body.categoryId));
      if (revision === -1) throw new ValidationError('categoryId', 'no category has this id');
    }
    const productId = randomUUID();
    const created = await createProduct(
      bus,
      {
        type: 'CreateProduct',
        productId,
        name: body.name,
        priceCents,
        now: now().toISOString(),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.categoryId === undefined ? {} : { categoryId: body.categoryId }),
        ...(body.imageUrl === undefined ? {} : { imageUrl: body.imageUrl }),
      },
      body.initialStock ?? 0,
      commandContext(request),
    );
    response.setHeader('Location', `/api/v1/products/${productId}`);
    answerCommand(response, created, 201, { id: productId });
  });

  router.get('/api/v1/products/:productId', async (request, response) => {
    const productId = pathId(request, 'productId', 'product');
    const { product, revision } = await existingProduct(productId);
    const { available } = inventoryView(await readInventory(productId));
    response.setHeader('ETag', `"${revision}"`);
    response.json(productBody(product, available));
  });

  router.patch('/api/v1/products/:productId', ...adminOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'product');
    const body = await validBody(UpdateProductBody, request.body);
    const changes = {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.price === undefined ? {} : { priceCents: parseMoney('price', body.price) }),
      ...(body.imageUrl === undefined ? {} : { imageUrl: body.imageUrl }),
      ...(body.active === undefined ? {} : { active: body.active }),
    };
    const expected = ifMatch(request);
    const handled = await handle(
      bus,
      productDecider,
      productStreamId(productId),
      { type: 'UpdateProduct', productId, changes, now: now().toISOString() },
      commandContext(request),
      expected === undefined ? {} : { ifMatch: expected },
    );
    if (handled.state.status === 'Absent') throw new NotFound('product', productId);
    const { available } = inventoryView(await readInventory(productId));
    answerCommand(response, handled, 200, productBody(handled.state, available));
  });

  router.post('/api/v1/inventory/:productId/restock', ...adminOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'product');
    const body = await validBody(RestockBody, request.body);
    const expected = ifMatch(request);
    await existingProduct(productId);
    const handled = await handle(
      bus,
      inventoryDecider,
      inventoryStreamId(productId),
      { type: 'Restock', productId, quantity: body.quantity, now: now().toISOString() },
      commandContext(request),
      // Restocks add up whatever came between, so without If-Match a lost race is simply decided again.
      expected === undefined ? { retryOnConflict: true } : { ifMatch: expected },
    );
    answerCommand(response, handled, 200, { productId, ...inventoryView(handled.state) });
  });

  router.get('/api/v1/inventory/:productId', ...adminOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'product');
    await existingProduct(productId);
    const { state, revision } = await load(bus, inventoryDecider, inventoryStreamId(productId));
    response.setHeader('ETag', `"${revision}"`);
    response.json({ productId, ...inventoryView(state) });
  });

  return router;
}
