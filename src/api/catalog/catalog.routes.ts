import { type Request, type RequestHandler, Router } from 'express';
import { IsBoolean, IsDefined, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import type { CommandEnvironment } from '../../commands/commandEnvironment.js';
import { createCategory } from '../../commands/catalog/category.js';
import { createProduct, type ProductWithStock, updateProduct } from '../../commands/catalog/product.js';
import { readStockLevel, restock, type StockLevel } from '../../commands/inventory/inventory.js';
import { RESTOCK_MAX_QUANTITY } from '../../domain/inventory/inventory.js';
import { NotFound } from '../../domain/shared/errors.js';
import { formatMoney, parseMoney } from '../../domain/shared/money.js';
import { commandContext } from '../commandContext.js';
import { answerCommand, ifMatch, Omittable, validBody } from '../http.js';
import { IsId, pathId } from '../pathIds.js';
import { IsText } from '../text.js';
import type { SqlQuery } from '../../projections/consumer.js';
import {
  findProduct,
  type ListedProduct,
  listCategories,
  listProducts,
  PRODUCT_SORT_KEYS,
  type ProductSearch,
  SORT_DIRECTIONS,
} from '../../projections/catalog/catalogQueries.js';
import {
  idParameter,
  oneOfParameter,
  pageOf,
  pageParameters,
  queryOf,
  SEARCH_MAX_LENGTH,
  textParameter,
} from '../queryParameters.js';

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
  @IsId()
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
  env: CommandEnvironment;
  /** Statements on the catalog's read model. */
  readModel: SqlQuery;
  /** Middleware that lets only administrators through (authentication included). */
  adminOnly: RequestHandler[];
}

/** A product as API.md shows it, from the read model or as a command left it. */
const productAnswer = (product: ListedProduct & { active: boolean }) => ({
  id: product.id,
  name: product.name,
  description: product.description,
  price: formatMoney(product.priceCents),
  categoryId: product.categoryId,
  imageUrl: product.imageUrl,
  active: product.active,
  availableQuantity: product.availableQuantity,
  createdAt: product.createdAt,
  updatedAt: product.updatedAt,
});

const productBody = ({ product, availableQuantity }: ProductWithStock) =>
  productAnswer({ ...product, active: product.status === 'Active', availableQuantity });

// Only active products are listed.
const listedProductBody = (product: ListedProduct) => productAnswer({ ...product, active: true });

const PRODUCT_LIST_PARAMETERS = ['search', 'categoryId', 'page', 'size', 'sortBy', 'sortDir'];

function productSearch(request: Request): ProductSearch {
  const query = queryOf(request, PRODUCT_LIST_PARAMETERS);
  const search = textParameter(query, 'search', SEARCH_MAX_LENGTH);
  return {
    ...pageParameters(query),
    // A search of nothing but spaces is no search.
    search: search?.trim() === '' ? undefined : search,
    categoryId: idParameter(query, 'categoryId'),
    sortBy: oneOfParameter(query, 'sortBy', PRODUCT_SORT_KEYS),
    sortDir: oneOfParameter(query, 'sortDir', SORT_DIRECTIONS),
  };
}

const stockBody = ({ productId, onHand, reserved, available }: StockLevel) => ({
  productId,
  onHand,
  reserved,
  available,
});

export function catalogRoutes({ env, readModel, adminOnly }: CatalogDependencies): Router {
  const router = Router();

  router.get('/api/v1/categories', async (request, response) => {
    queryOf(request, []);
    response.json(await listCategories(readModel));
  });

  router.get('/api/v1/products', async (request, response) => {
    const search = productSearch(request);
    const { items, totalItems } = await listProducts(readModel, search);
    response.json(pageOf(items.map(listedProductBody), search, totalItems));
  });

  router.post('/api/v1/categories', ...adminOnly, async (request, response) => {
    const body = await validBody(CreateCategoryBody, request.body);
    const created = await createCategory(env, body.name, commandContext(request));
    answerCommand(response, created, 201, { id: created.categoryId });
  });

  router.post('/api/v1/products', ...adminOnly, async (request, response) => {
    const body = await validBody(CreateProductBody, request.body);
    const created = await createProduct(
      env,
      {
        name: body.name,
        priceCents: parseMoney('price', body.price),
        description: body.description,
        categoryId: body.categoryId,
        imageUrl: body.imageUrl,
        initialStock: body.initialStock ?? 0,
      },
      commandContext(request),
    );
    response.setHeader('Location', `/api/v1/products/${created.productId}`);
    answerCommand(response, created, 201, { id: created.productId });
  });

  router.get('/api/v1/products/:productId', async (request, response) => {
    const productId = pathId(request, 'productId', 'product');
    const product = await findProduct(readModel, productId);
    if (!product) throw new NotFound('product', productId);
    response.setHeader('ETag', `"${product.revision}"`);
    response.json(productAnswer(product));
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
    const updated = await updateProduct(
      env,
      { productId, changes, ifMatch: ifMatch(request) },
      commandContext(request),
    );
    answerCommand(response, updated, 200, productBody(updated));
  });

  router.post('/api/v1/inventory/:productId/restock', ...adminOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'product');
    const body = await validBody(RestockBody, request.body);
    const stock = await restock(
      env,
      { productId, quantity: body.quantity, ifMatch: ifMatch(request) },
      commandContext(request),
    );
    answerCommand(response, stock, 200, stockBody(stock));
  });

  router.get('/api/v1/inventory/:productId', ...adminOnly, async (request, response) => {
    const stock = await readStockLevel(env, pathId(request, 'productId', 'product'));
    response.setHeader('ETag', `"${stock.revision}"`);
    response.json(stockBody(stock));
  });

  return router;
}
