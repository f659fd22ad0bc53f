import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { NotFound, OrderRuleViolation, RuleViolation, ValidationError } from '../domain/shared/errors.js';
import { WrongExpectedVersion } from '../eventstore/errors.js';
import { RevisionMismatch } from '../commands/commandHandler.js';
import { IdempotencyKeyReused } from '../commands/order/order.js';

export interface FieldError {
  field: string;
  message: string;
}

/** An error the API answers as it is: its status and words are meant for the client. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** How long a client should wait before trying again while a dependency is down. */
const RETRY_AFTER_SECONDS = '5';

/**
 * The one table from domain and store errors to HTTP; anything else is a 500 that says nothing.
 * `isDependencyDown` tells an unreachable database or store (503) from a bug.
 */
function toProblem(error: unknown, isDependencyDown: (error: unknown) => boolean): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof ValidationError) {
    return new HttpProblem(400, TITLES[400] as string, error.message, {
      errors: [{ field: error.field, message: error.message.slice(error.field.length + 2) }],
    });
  }
  if (error instanceof NotFound) return new HttpProblem(404, TITLES[404] as string, error.message);
  if (error instanceof IdempotencyKeyReused)
    return new HttpProblem(422, TITLES[422] as string, error.message);
  if (error instanceof OrderRuleViolation) return new HttpProblem(422, TITLES[422] as string, error.message);
  if (error instanceof RuleViolation) return new HttpProblem(409, TITLES[409] as string, error.message);
  if (error instanceof RevisionMismatch) {
    return new HttpProblem(
      412,
      TITLES[412] as string,
      `If-Match names revision ${error.expected}, the resource is at revision ${error.actual}`,
    );
  }
  if (error instanceof WrongExpectedVersion) {
    return new HttpProblem(
      409,
      TITLES[409] as string,
      'the resource was changed by another request; read it and try again',
    );
  }
  // Errors of express's body parser (a 4xx marked `expose`) and router (a URIError for a path that
  // does not decode) are about the request, and their messages are written for its sender.
  const { status, type, expose, message } = (error ?? {}) as {
    status?: unknown;
    type?: unknown;
    expose?: unknown;
    message?: unknown;
  };
  if (status === 413)
    return new HttpProblem(413, TITLES[413] as string, 'the request body is larger than 100 kB');
  if (status === 400 && type === 'entity.parse.failed') {
    return new HttpProblem(400, TITLES[400] as string, 'the request body is not valid JSON');
  }
  if (
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    (expose === true || error instanceof URIError) &&
    typeof message === 'string'
  ) {
    return new HttpProblem(status, problemStatusTitle(status), message);
  }
  if (isDependencyDown(error)) {
    return new HttpProblem(503, TITLES[503] as string, 'a service the shop depends on does not answer', {
      headers: { 'Retry-After': RETRY_AFTER_SECONDS },
    });
  }
  return new HttpProblem(500, TITLES[500] as string, 'an unexpected error occurred');
}

function sendProblem(response: Response, problem: HttpProblem, instance: string): void {
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) response.setHeader(name, value);
  response
    .status(problem.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: 'about:blank',
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        instance,
        ...(problem.extra.errors ? { errors: problem.extra.errors } : {}),
      }),
    );
}

export function problemStatusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

export function problemHandler(
  logger: Logger,
  isDependencyDown: (error: unknown) => boolean,
): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const problem = toProblem(error, isDependencyDown);
    if (problem.status >= 500) logger.error({ err: error, url: request.originalUrl }, 'request failed');
    sendProblem(response, problem, request.originalUrl);
  };
}
