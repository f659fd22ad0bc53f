import { type Request, type RequestHandler, Router } from 'express';
import { IsInt, Max, Min } from 'class-validator';
import {
  addCartItem,
  type CartAnswer,
  changeCartItemQuantity,
  clearCart,
  readCart,
  removeCartItem,
} from '../../commands/cart/cart.js';
import type { CommandEnvironment } from '../../commands/commandEnvironment.js';
import { CART_LINE_MAX_QUANTITY } from '../../domain/cart/cart.decide.js';
import { formatMoney } from '../../domain/shared/money.js';
import { callerOf } from '../auth/authenticate.js';
import { commandContext } from '../commandContext.js';
import { answerCommand, ifMatch, validBody } from '../http.js';
import { IsId, pathId } from '../pathIds.js';

class AddItemBody {
  @IsId()
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
  env: CommandEnvironment;
  /** Middleware that lets only customers through (authentication included). */
  customersOnly: RequestHandler[];
}

/** The cart as API.md shows it: decimal strings for money. */
function cartBody({ cart }: CartAnswer) {
  return {
    items: cart.items.map((line) => ({
      productId: line.productId,
      productName: line.productName,
      quantity: line.quantity,
      unitPrice: formatMoney(line.unitPriceCents),
      lineTotal: formatMoney(line.lineTotalCents),
    })),
    itemCount: cart.itemCount,
    totalAmount: formatMoney(cart.totalCents),
    updatedAt: cart.updatedAt,
  };
}

/** Always the caller's own cart: no path names another user's. */
export function cartRoutes({ env, customersOnly }: CartDependencies): Router {
  const router = Router();
  const userOf = (request: Request): string => callerOf(request).userId;

  router.get('/api/v1/cart', ...customersOnly, async (request, response) => {
    const answer = await readCart(env, userOf(request));
    response.setHeader('ETag', `"${answer.revision}"`);
    response.json(cartBody(answer));
  });

  router.post('/api/v1/cart/items', ...customersOnly, async (request, response) => {
    const body = await validBody(AddItemBody, request.body);
    const answer = await addCartItem(
      env,
      {
        userId: userOf(request),
        productId: body.productId.toLowerCase(),
        quantity: body.quantity,
        ifMatch: ifMatch(request),
      },
      commandContext(request),
    );
    answerCommand(response, answer, 200, cartBody(answer));
  });

  router.put('/api/v1/cart/items/:productId', ...customersOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'cart line');
    const body = await validBody(ChangeQuantityBody, request.body);
    const answer = await changeCartItemQuantity(
      env,
      { userId: userOf(request), productId, quantity: body.quantity, ifMatch: ifMatch(request) },
      commandContext(request),
    );
    answerCommand(response, answer, 200, cartBody(answer));
  });

  router.delete('/api/v1/cart/items/:productId', ...customersOnly, async (request, response) => {
    const productId = pathId(request, 'productId', 'cart line');
    const answer = await removeCartItem(
      env,
      { userId: userOf(request), productId, ifMatch: ifMatch(request) },
      commandContext(request),
    );
    answerCommand(response, answer, 200, cartBody(answer));
  });

  router.delete('/api/v1/cart', ...customersOnly, async (request, response) => {
    const answer = await clearCart(
      env,
      { userId: userOf(request), ifMatch: ifMatch(request) },
      commandContext(request),
    );
    answerCommand(response, answer, 204);
  });

  return router;
}
