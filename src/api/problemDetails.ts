import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { NotFound, OrderRuleViolation, RuleViolation, ValidationError } from '../domain/shared/errors.js';
import { WrongExpectedVersion } from '../eventstore/errors.js';
import { RevisionMismatch } from '../commands/commandHandler.js';
import { IdempotencyKeyReused } from '../commands/order/placeOrder.js';

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
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The one table from domain and store errors to HTTP; anything else is a 500 that says nothing. */
export function toProblem(error: unknown): HttpProblem {
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
  const status = (error as { status?: unknown; type?: unknown }).status;
  if (status === 413)
    return new HttpProblem(413, TITLES[413] as string, 'the request body is larger than 100 kB');
  if (status === 400 && (error as { type?: unknown }).type === 'entity.parse.failed') {
    return new HttpProblem(400, TITLES[400] as string, 'the request body is not valid JSON');
  }
  return new HttpProblem(500, TITLES[500] as string, 'an unexpected error occurred');
}

export function sendProblem(response: Response, problem: HttpProblem, instance: string): void {
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

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const problem = toProblem(error);
    if (problem.status >= 500) logger.error({ err: error, url: request.originalUrl }, 'request failed');
    sendProblem(response, problem, request.originalUrl);
  };
}
