import { type CartView, cartView } from '../../domain/cart/cart.js';
import type { CartCommand } from '../../domain/cart/cart.decide.js';
import { NotFound } from '../../domain/shared/errors.js';
import { carts, products } from '../aggregates.js';
import type { CommandEnvironment, Written } from '../commandEnvironment.js';
import { type CommandContext, handle, load, loadState } from '../commandHandler.js';

/** A customer's cart as they see it now: a cart left alone too long reads as empty. */
export type CartAnswer = Written & { cart: CartView };

/** A cart command's options: without If-Match, a lost race is decided again. */
interface CartCommandOptions {
  ifMatch?: number | undefined;
}

/**
 * Cart commands are safe to decide again after losing a race (adding two more means two more
 * whatever else landed), unless the caller pinned the revision it saw with If-Match.
 */
async function changeCart(
  env: CommandEnvironment,
  userId: string,
  command: (common: { userId: string; now: string; cartTtlMs: number }) => CartCommand,
  options: CartCommandOptions,
  context: CommandContext,
): Promise<CartAnswer> {
  const now = env.now().toISOString();
  const handled = await handle(env.streams, carts, {
    id: userId,
    command: command({ userId, now, cartTtlMs: env.cartTtlMs }),
    context,
    ...(options.ifMatch === undefined ? { retryOnConflict: true } : { ifMatch: options.ifMatch }),
  });
  return {
    revision: handled.revision,
    position: handled.position,
    cart: cartView(handled.state, now, env.cartTtlMs),
  };
}

/**
 * Adds a product that is on sale, at its catalog price and name of this moment. Stock is neither
 * checked nor reserved: the checkout settles availability.
 */
export async function addCartItem(
  env: CommandEnvironment,
  input: { userId: string; productId: string; quantity: number } & CartCommandOptions,
  context: CommandContext,
): Promise<CartAnswer> {
  const { state: product } = await loadState(env.streams, products, input.productId);
  if (product.status !== 'Active') throw new NotFound('product', input.productId);
  return changeCart(
    env,
    input.userId,
    (common) => ({
      type: 'AddCartItem',
      ...common,
      productId: input.productId,
      productName: product.name,
      unitPriceCents: product.priceCents,
      quantity: input.quantity,
    }),
    input,
    context,
  );
}

/** A quantity of 0 removes the line. */
export function changeCartItemQuantity(
  env: CommandEnvironment,
  input: { userId: string; productId: string; quantity: number } & CartCommandOptions,
  context: CommandContext,
): Promise<CartAnswer> {
  return changeCart(
    env,
    input.userId,
    (common) => ({
      type: 'ChangeCartItemQuantity',
      ...common,
      productId: input.productId,
      quantity: input.quantity,
    }),
    input,
    context,
  );
}

export function removeCartItem(
  env: CommandEnvironment,
  input: { userId: string; productId: string } & CartCommandOptions,
  context: CommandContext,
): Promise<CartAnswer> {
  return changeCart(
    env,
    input.userId,
    (common) => ({ type: 'RemoveCartItem', ...common, productId: input.productId }),
    input,
    context,
  );
}

export function clearCart(
  env: CommandEnvironment,
  input: { userId: string } & CartCommandOptions,
  context: CommandContext,
): Promise<CartAnswer> {
  return changeCart(env, input.userId, (common) => ({ type: 'ClearCart', ...common }), input, context);
}

export async function readCart(env: CommandEnvironment, userId: string): Promise<CartAnswer> {
  const { state, revision, position } = await load(env.streams, carts, userId);
  return { revision, position, cart: cartView(state, env.now().toISOString(), env.cartTtlMs) };
}
