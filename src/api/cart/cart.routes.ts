import { type Request, type RequestHandler, type Response, Router } from 'express';
import { IsInt, IsUUID, Max, Min } from 'class-validator';
import { type CommandBus, handle, type Handled, load } from '../../commands/commandHandler.js';
import { type Cart, type CartEvent, cartStreamId, cartView } from '../../domain/cart/cart.js';
import { CART_LINE_MAX_QUANTITY, type CartCommand, cartDecider } from '../../domain/cart/cart.decide.js';
import { productDecider } from '../../domain/catalog/product.decide.js';
import { productStreamId } from '../../domain/catalog/product.js';
import { NotFound } from '../../domain/shared/errors.js';
import { formatMoney } from '../../domain/shared/money.js';
import { callerOf } from '../auth/authenticate.js';
import { commandContext } from '../commandContext.js';
import { answerCommand, ifMatch, validBody } from '../http.js';
import { pathId } from '../pathIds.js';

class AddItemBody {
  @IsUUID()
  productId!: string;

  @IsInt()
  @Min(1)
  @Max(CART_LINE_MAX_QUANTITY)
  quantity!: number;
}

class ChangeQuantityBody {
  @IsInt()
  @Min(0)
  @Max(CART_LINE_MAX_QUANTITY)
  quantity!: number;
}

export interface CartDependencies {
  bus: CommandBus;
  /** Middleware that lets only customers through (authentication included). */
  customersOnly: RequestHandler[];
  cartTtlMs: number;
  now: () => Date;
}

/** The cart as API.md shows it: decimal strings for money, the expiry already applied. */
function cartBody(state: Cart, now: string, ttlMs: number) {
  const view = cartView(state, now, ttlMs);
  return {
    items: view.items.map((line) => ({
      productId: line.productId,
      productName: line.productName,
      quantity: line.quantity,
      unitPrice: formatMoney(line.unitPriceCents),
      lineTotal: formatMoney(line.lineTotalCents),
    })),
    itemCount: view.itemCount,
    totalAmount: formatMoney(view.totalCents),
    updatedAt: view.updatedAt,
  };
}

/** Always the caller's own cart: no path names another user's. */
export function cartRoutes({ bus, customersOnly, cartTtlMs, now }: CartDependencies): Router {
  const router = Router();
  const userOf = (request: Request): string => callerOf(request).userId;

  /**
   * A cart command is safe to decide again after losing a race (adding two more means two more
   * whatever else landed), unless the caller pinned the revision it saw with If-Match.
   */
  async function changeCart(
    request: Request,
    command: (userId: string, at: string) => CartCommand,
  ): Promise<Handled<Cart, CartEvent> & { at: string }> {
    const userId = userOf(request);
    const at = now().toISOString();
    const expected = ifMatch(request);
    const handled = await handle(
      bus,
      cartDecider,
      cartStreamId(userId),
      command(userId, at),
      commandContext(request),
      expected === undefined ? { retryOnConflict: true } : { ifMatch: expected },
    );
    return { ...handled, at };
  }

  const answerCart = (response: Response, handled: Handled<Cart, CartEvent> & { at: string }): void =>
    answerCommand(response, handled, 200, cartBody(handled.state, handled.at, cartTtlMs));

  router.get('/api/v1/cart', ...customersOnly, async (request, response) => {
    const { state, revision } = await load(bus, cartDecider, cartStreamId(userOf(request)));
    response.setHeader('ETag', `"${revision}"`);
    response.json(cartBody(state, now().toISOString(), cartTtlMs));
  });

  router.post('/api/v1/cart/items', ...customersOnly, async (request, response) => {
    const body = await validBody(AddItemBody, request.body);
    const productId = body.productId.toLowerCase();
    const { state: product } = await load(bus, productDecider, productStreamId(productId));
    if (product.status !== 'Active') throw new NotFound('product', productId);
    const handled = await changeCart(request, (userId, at) => ({
      type: 'AddCartItem',
      userId,
      productId,
      productName: product.name,
      unitPriceCents: product.priceCents,
      quantity: body.quantity,
      now: at,
      cartTtlMs,
    }));
    answerCart(response, handled);
  });

  router.put('/api/v1/cart/items/:productId', ...customersOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'cart line');
    const body = await validBody(ChangeQuantityBody, request.body);
    const handled = await changeCart(request, (userId, at) => ({
      type: 'ChangeCartItemQuantity',
      userId,
      productId,
      quantity: body.quantity,
      now: at,
      cartTtlMs,
    }));
    answerCart(response, handled);
  });

  router.delete('/api/v1/cart/items/:productId', ...customersOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'cart line');
    const handled = await changeCart(request, (userId, at) => ({
      type: 'RemoveCartItem',
      userId,
      productId,
      now: at,
      cartTtlMs,
    }));
    answerCart(response, handled);
  });

  router.delete('/api/v1/cart', ...customersOnly, async (request, response) => {
    const handled = await changeCart(request, (userId, at) => ({
      type: 'ClearCart',
      userId,
      now: at,
      cartTtlMs,
    }));
    answerCommand(response, handled, 204);
  });

  return router;
}
