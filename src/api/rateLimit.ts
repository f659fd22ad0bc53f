import type { Request, RequestHandler, Response } from 'express';
import { type AugmentedRequest, ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import { HttpProblem, problemStatusTitle } from './problemDetails.js';

const WINDOW_MS = 60_000;
/** Requests a client may send a minute unless RATE_LIMIT_PER_MINUTE says otherwise. */
export const RATE_LIMIT_DEFAULT = 1200;

export interface RateLimitOptions {
  /** How many requests one user, or one client address without a verified token, may send to the API in a minute. */
  requestsPerMinute: number;
  /** Where counts are kept: in this process unless given (a Redis store shares them between instances). */
  store?: Store;
  /**
   * The API's own authentication, which sets `request.caller` once a bearer token verifies. Without
   * it every request is counted against its client address.
   */
  authenticate?: readonly RequestHandler[];
}

/**
 * The `sub` of the request's bearer token if the token verifies, else undefined. The token is
 * checked by the same middleware as the routes use, so a forged or unverifiable token counts
 * against its address, and never buys a fresh budget; what that middleware set on the request is
 * taken off again, so that each route still decides for itself whom it lets in. The middleware
 * keeps its verification for the route's own pass, so the token is verified once a request.
 */
async function verifiedSubject(
  request: Request,
  response: Response,
  authenticate: readonly RequestHandler[],
): Promise<string | undefined> {
  if (request.header('authorization') === undefined) return undefined;
  const { caller, auth } = request as Request & { auth?: unknown };
  let verified = true;
  for (const handler of authenticate) {
    verified = await new Promise<boolean>((resolve) => {
      void handler(request, response, (error?: unknown) => resolve(error === undefined));
    });
    if (!verified) break;
  }
  const subject = verified ? request.caller?.userId : undefined;
  Object.assign(request, { caller, auth });
  return subject;
}

/**
 * API.md's 429: past its budget a client gets a problem with `Retry-After` until its minute is
 * over. A client is the user a verified token names, so that many shoppers behind one gateway are
 * never limited together; without a verified token, the client address.
 */
export function rateLimits({
  requestsPerMinute,
  store,
  authenticate = [],
}: RateLimitOptions): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: requestsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A store that cannot be reached must not take the API down with it: requests go through.
    passOnStoreError: true,
    ...(store ? { store } : {}),
    keyGenerator: async (request, response) => {
      const subject =
        authenticate.length > 0 ? await verifiedSubject(request, response, authenticate) : undefined;
      // Prefixed, so that no user id can be taken for an address.
      return subject === undefined ? `address:${ipKeyGenerator(request.ip ?? '')}` : `user:${subject}`;
    },
    handler: (request, _response, next) => {
      const resetTime =
        (request as AugmentedRequest).rateLimit?.resetTime?.getTime() ?? Date.now() + WINDOW_MS;
      const retryAfterSeconds = Math.max(1, Math.ceil((resetTime - Date.now()) / 1000));
      next(
        new HttpProblem(
          429,
          problemStatusTitle(429),
          `at most ${requestsPerMinute} requests a minute from one client (a user, or an address without ` +
            `a verified token); try again in ${retryAfterSeconds} s`,
          { headers: { 'Retry-After': String(retryAfterSeconds) } },
        ),
      );
    },
  });
}
