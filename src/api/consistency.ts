import { setTimeout as delay } from 'node:timers/promises';
import type { RequestHandler } from 'express';
import { parseWholeNumber } from './http.js';
import { HttpProblem, problemStatusTitle } from './problemDetails.js';

/**
 * A GET waiting for `X-Min-Position` looks again after 5 ms, then twice as long each time up to
 * 200 ms: a position just written arrives at once, one far ahead costs a few dozen reads, not 500.
 */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 200;

export interface ReadConsistencyOptions {
  /**
   * The position every event up to which the data a GET of `path` reads reflects: the checkpoint
   * of the projector whose read model answers it, or for a GET folded from streams the store's
   * head as readers see it.
   */
  readPosition: (path: string) => Promise<number>;
  /** How long a GET waits for `X-Min-Position` before answering with what it has (API.md: 5 s). */
  maxWaitMs: number;
}

/**
 * Read-your-writes for GETs: `X-Min-Position` (a command's `X-Event-Position`) makes the GET wait,
 * at most `maxWaitMs`, until the data it reads has caught up with that position; every GET answers
 * `X-Projection-Position`, measured before the handler reads, so what it answers is at least that
 * recent. A client that gets a lower position than it asked for knows the wait ran out.
 */
export function readConsistency({ readPosition, maxWaitMs }: ReadConsistencyOptions): RequestHandler {
  return async (request, response, next) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      next();
      return;
    }
    const header = request.header('x-min-position')?.trim();
    const minPosition = header === undefined ? 0 : parseWholeNumber(header);
    if (minPosition === undefined) {
      throw new HttpProblem(
        400,
        problemStatusTitle(400),
        'X-Min-Position must be a position: a whole number',
      );
    }
    const deadline = Date.now() + maxWaitMs;
    let position = await readPosition(request.baseUrl + request.path);
    for (let pause = FIRST_POLL_MS; position < minPosition && Date.now() < deadline;) {
      await delay(Math.min(pause, Math.max(deadline - Date.now(), 0)));
      position = await readPosition(request.baseUrl + request.path);
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
    response.setHeader('X-Projection-Position', String(position));
    next();
  };
}
