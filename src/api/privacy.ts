import type { RequestHandler } from 'express';

/** API.md's privacy rule: what is answered under these paths carries personal data. */
export const PERSONAL_DATA_PATHS = ['/api/v1/cart', '/api/v1/orders', '/api/v1/audit', '/api/v1/events'];

/**
 * `Cache-Control: no-store` on every answer, set before anything can answer, so that problems and
 * 429s carry it too: no shared cache or browser may keep a cart, an order or an event stream.
 */
export function noStore(): RequestHandler {
  return (_request, response, next) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  };
}
