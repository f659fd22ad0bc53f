import type { RequestHandler } from 'express';
import { type AugmentedRequest, rateLimit, type Store } from 'express-rate-limit';
import { HttpProblem, problemStatusTitle } from './problemDetails.js';

const WINDOW_MS = 60_000;
/** Requests a client address may send a minute unless RATE_LIMIT_PER_MINUTE says otherwise. */
export const RATE_LIMIT_DEFAULT = 1200;

export interface RateLimitOptions {
  /** How many requests one client address may send to the API in a minute. */
  requestsPerMinute: number;
  /** Where counts are kept: in this process unless given (a Redis store shares them between instances). */
  store?: Store;
}

/**
 * API.md's 429: past its budget a client gets a problem with `Retry-After` until its minute is
 * over. Clients are told apart by address, since the limit applies before any token is checked.
 */
export function rateLimits({ requestsPerMinute, store }: RateLimitOptions): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: requestsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A store that cannot be reached must not take the API down with it: requests go through.
    passOnStoreError: true,
    ...(store ? { store } : {}),
    handler: (request, _response, next) => {
      const resetTime =
        (request as AugmentedRequest).rateLimit?.resetTime?.getTime() ?? Date.now() + WINDOW_MS;
      const retryAfterSeconds = Math.max(1, Math.ceil((resetTime - Date.now()) / 1000));
      next(
        new HttpProblem(
          429,
          problemStatusTitle(429),
          `at most ${requestsPerMinute} requests a minute from one client; try again in ${retryAfterSeconds} s`,
          { headers: { 'Retry-After': String(retryAfterSeconds) } },
        ),
      );
    },
  });
}
