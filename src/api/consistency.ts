import { setTimeout as delay } from 'node:timers/promises';
import type { RequestHandler } from 'express';
import { parseWholeNumber } from './http.js';
import { HttpProblem, problemStatusTitle } from './problemDetails.js';

/**
 * A GET waiting for `X-Min-Position` on a source that cannot tell it when it moves looks again after
 * 5 ms, then twice as long each time up to 200 ms: a position just written arrives at once, one far
 * ahead costs a few dozen reads, not 500.
 */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 200;
/** A GET woken by its source's announcements still looks this often, should one be missed. */
const ANNOUNCED_RECHECK_MS = 1000;

/** Where the data a GET reads comes from. */
export interface ReadSource {
  /**
   * Every event up to this position is reflected in the data. `atLeast` is what the GET waits for:
   * a source that knows its position from memory asks again when what it knows falls short.
   */
  position(atLeast: number): Promise<number>;
  /** Resolves once the position may have reached `position`, or after `timeoutMs`. */
  untilReached?(position: number, timeoutMs: number): Promise<void>;
  /**
   * A position this instance has already seen the data at, by writing it or by reading its
   * streams: the GET waits for it as for `X-Min-Position`, so that a client's write is in the
   * answer to its next read of the same instance whether it sends the header or not.
   */
  seen?: number;
}

export interface ReadConsistencyOptions {
  /**
   * The source of a GET of `path`: the projector whose read model answers it, or for a GET folded
   * from streams the store's head as readers see it.
   */
  sourceOf: (path: string) => ReadSource;
  /** How long a GET waits for `X-Min-Position` before answering with what it has (API.md: 5 s). */
  maxWaitMs: number;
}

/**
 * Read-your-writes for GETs: `X-Min-Position` (a command's `X-Event-Position`) makes the GET wait,
 * at most `maxWaitMs`, until the data it reads has caught up with that position; every GET answers
 * `X-Projection-Position`, measured before the handler reads, so what it answers is at least that
 * recent. A client that gets a lower position than it asked for knows the wait ran out.
 */
export function readConsistency({ sourceOf, maxWaitMs }: ReadConsistencyOptions): RequestHandler {
  return async (request, response, next) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      next();
      return;
    }
    const header = request.header('x-min-position')?.trim();
    const asked = header === undefined ? 0 : parseWholeNumber(header);
    if (asked === undefined) {
      throw new HttpProblem(
        400,
        problemStatusTitle(400),
        'X-Min-Position must be a position: a whole number',
      );
    }
    const source = sourceOf(request.baseUrl + request.path);
    const minPosition = Math.max(asked, source.seen ?? 0);
    const deadline = Date.now() + maxWaitMs;
    let position = await source.position(minPosition);
    for (let pause = FIRST_POLL_MS; position < minPosition && Date.now() < deadline;) {
      const remaining = Math.max(deadline - Date.now(), 0);
      if (source.untilReached)
        await source.untilReached(minPosition, Math.min(remaining, ANNOUNCED_RECHECK_MS));
      else await delay(Math.min(pause, remaining));
      position = await source.position(minPosition);
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
    response.setHeader('X-Projection-Position', String(position));
    next();
  };
}
