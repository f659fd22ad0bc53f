/** Why requests were sent again: the shop was down, restarting, or busy. */
export interface RetryCounts {
  /** No connection, or the connection dropped before an answer (the shop was killed). */
  unreachable: number;
  /** No answer within the request timeout. */
  timedOut: number;
  /** 502, 503 or 504: a dependency down, or the shop not ready. */
  unavailable: number;
  /** 429 */
  rateLimited: number;
  /** Any other 5xx: worth a look even when the request went through later. */
  serverErrors: number;
}

export const noRetries = (): RetryCounts => ({
  unreachable: 0,
  timedOut: 0,
  unavailable: 0,
  rateLimited: 0,
  serverErrors: 0,
});

export const totalRetries = (counts: RetryCounts): number =>
  counts.unreachable + counts.timedOut + counts.unavailable + counts.rateLimited + counts.serverErrors;

/** An answer the run did not expect, or a request that could not get through at all. */
export class UnexpectedAnswer extends Error {
  override readonly name = 'UnexpectedAnswer';
}

export interface Answer {
  status: number;
  body: unknown;
  /** 1 when the first attempt was answered. */
  attempts: number;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** How long one request keeps trying while the shop is down before the run gives up on it. */
const GIVE_UP_AFTER_MS = 180_000;
const SERVER_ERRORS_TOLERATED = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (ms: number): number => ms / 2 + Math.random() * ms;

/**
 * HTTP to a shop that is killed every few seconds. A request that did not get an answer is sent
 * again, the same request with the same headers (an order's Idempotency-Key among them), until it
 * is answered; what the answer is, the caller judges.
 */
export class ChaosClient {
  /** 5xx answers other than 502-504, with what they said: the run reports them. */
  readonly serverErrors: string[] = [];

  constructor(
    private readonly base: string,
    readonly retries: RetryCounts,
  ) {}

  async send(
    method: string,
    path: string,
    options: RequestOptions,
    expected: readonly number[],
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const giveUpAt = Date.now() + GIVE_UP_AFTER_MS;
    let serverErrors = 0;
    let last = 'no attempt';
    for (let attempts = 1; ; attempts += 1) {
      if (Date.now() > giveUpAt) {
        throw new UnexpectedAnswer(`${method} ${path}: no answer within ${GIVE_UP_AFTER_MS} ms (${last})`);
      }
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${this.base}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        text = await response.text();
      } catch (error) {
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        if (timedOut) this.retries.timedOut += 1;
        else this.retries.unreachable += 1;
        last = describe(error);
        await sleep(jitter(timedOut ? 100 : 250));
        continue;
      }
      const { status } = response;
      if (expected.includes(status)) return { status, body: parse(text), attempts };
      last = `${status} ${text.slice(0, 300)}`;
      if (status === 429) {
        this.retries.rateLimited += 1;
        await sleep(Math.min(60, Number(response.headers.get('retry-after') ?? 1)) * 1000);
        continue;
      }
      if (status === 502 || status === 503 || status === 504) {
        this.retries.unavailable += 1;
        await sleep(jitter(500));
        continue;
      }
      if (status >= 500 && serverErrors < SERVER_ERRORS_TOLERATED) {
        serverErrors += 1;
        this.retries.serverErrors += 1;
        this.serverErrors.push(`${method} ${path}: ${last}`);
        await sleep(jitter(500));
        continue;
      }
      throw new UnexpectedAnswer(`${method} ${path}: expected ${expected.join(' or ')}, got ${last}`);
    }
  }
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error
      ? `: ${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message}`
      : '';
  return `${error.message}${cause}`;
}
