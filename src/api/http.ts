import { randomUUID } from 'node:crypto';
import { type IncomingMessage, maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { plainToInstance } from 'class-transformer';
import { validate, ValidateIf, type ValidationError as FieldFailure } from 'class-validator';
import { bodyFaults } from './bodyShape.js';
import { HttpProblem, problemStatusTitle } from './problemDetails.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A date and time with its offset, e.g. `2026-03-01T10:00:00Z` or `2026-03-01T11:00:00.250+01:00`. */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * An ISO 8601 date and time with an offset, or undefined for anything else (a date alone included).
 * Each field is checked against the calendar and the clock, since `Date` rolls 31 February over
 * into March, and an instant the caller did not write must not be answered as the one asked for.
 */
export function parseInstant(text: string): Date | undefined {
  const fields = INSTANT.exec(text)
    ?.slice(1)
    .map((field) => Number(field ?? 0));
  if (!fields) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] =
    fields;
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    offsetHours < 24 &&
    offsetMinutes < 60;
  const instant = valid ? new Date(text) : undefined;
  return instant && !Number.isNaN(instant.getTime()) ? instant : undefined;
}

/** A whole number written in digits only (a position, a count), or undefined for anything else. */
export function parseWholeNumber(text: string): number | undefined {
  const number = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(number) ? number : undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The caller's X-Request-Id, or a new one: the correlation id of every event the request causes. */
    requestId: string;
  }
}

export function requestIds(): RequestHandler {
  return (request, response, next) => {
    const given = request.header('x-request-id');
    request.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    response.setHeader('X-Request-Id', request.requestId);
    next();
  };
}

function problem(status: number, detail: string, errors?: { field: string; message: string }[]): HttpProblem {
  return new HttpProblem(status, problemStatusTitle(status), detail, errors ? { errors } : {});
}

/**
 * JSON bodies up to 100 kB; a body in any other format is a 415, whatever its size; one holding text
 * that no field can take (see `bodyFaults`) is a 400 naming where, before any route reads it.
 */
export function jsonBodies(): RequestHandler[] {
  const refuseOtherTypes: RequestHandler = (request, _response, next) => {
    const hasBody = Number(request.header('content-length') ?? 0) > 0 || request.header('transfer-encoding');
    if (hasBody && !request.is('application/json')) {
      next(problem(415, 'send the body as application/json'));
      return;
    }
    next();
  };
  const refuseUnsafeText: RequestHandler = (request, _response, next) => {
    const faults = bodyFaults(request.body);
    next(faults.length > 0 ? problem(400, 'the request body is invalid', faults) : undefined);
  };
  return [refuseOtherTypes, express.json({ limit: '100kb', strict: true }), refuseUnsafeText];
}

/**
 * A field that may be left out, but not sent as null: class-validator's IsOptional skips the checks
 * for null too, and a null would then reach the domain as if it were a value.
 */
export const Omittable = (): PropertyDecorator => ValidateIf((_body, value: unknown) => value !== undefined);

/**
 * The shop answers no conditional GET with 304: an ETag is the revision of the one aggregate a
 * write may name in If-Match, while a representation can also show other streams (a product its
 * stock, an order its payment), which change without changing that revision.
 */
export function withoutRevalidation(): RequestHandler {
  return (request, _response, next) => {
    delete request.headers['if-none-match'];
    delete request.headers['if-modified-since'];
    next();
  };
}

/**
 * Validates a body against a class-validator DTO: fields it does not declare are refused, not
 * dropped, and each failing field is named.
 */
export async function validBody<T extends object>(dto: new () => T, body: unknown): Promise<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problem(400, 'the request body must be a JSON object');
  }
  const instance = plainToInstance(dto, body);
  const failures = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (failures.length > 0) throw problem(400, 'the request body is invalid', fieldErrors(failures));
  return instance;
}

/** Nested objects' failures are named by their path, e.g. `shippingAddress.country`. */
function fieldErrors(failures: FieldFailure[], prefix = ''): { field: string; message: string }[] {
  return failures.flatMap((failure) => {
    const field = `${prefix}${failure.property}`;
    const own = Object.values(failure.constraints ?? {});
    const nested = fieldErrors(failure.children ?? [], `${field}.`);
    return [...(own.length > 0 ? [{ field, message: own.join('; ') }] : []), ...nested];
  });
}

/** `If-Match: "3"` -> 3; absent -> undefined; anything else is a 400. */
export function ifMatch(request: Request): number | undefined {
  const header = request.header('if-match');
  if (header === undefined) return undefined;
  const match = /^"(-1|\d{1,15})"$/.exec(header.trim());
  if (!match?.[1]) throw problem(400, 'If-Match must be a quoted revision, e.g. "3"');
  return Number(match[1]);
}

/** Answers an accepted command: the aggregate's revision as ETag, the consistency token, the body. */
export function answerCommand(
  response: Response,
  result: { revision: number; position: number | undefined },
  status: number,
  body?: unknown,
): void {
  response.setHeader('ETag', `"${result.revision}"`);
  // No position: the command changed nothing and its stream has no events, so there is nothing to wait for.
  response.setHeader('X-Event-Position', String(result.position ?? 0));
  if (body === undefined) response.status(status).end();
  else response.status(status).json(body);
}

/** What Node's HTTP parser refuses, by its error code, as the problem the client is told. */
const PARSER_PROBLEMS: Record<string, { status: number; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    detail: `the request headers are larger than ${maxHeaderSize / 1024} kB`,
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    detail: 'the chunk extensions of the request body are too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: 'the request did not arrive in time' },
};
const UNREADABLE_REQUEST = {
  status: 400,
  detail:
    'the request is not valid HTTP/1.1 (a malformed request line, a control character in a header, ...)',
};
/** How long a refused client may keep sending before its connection is destroyed. */
const LINGER_MS = 2_000;

function rawProblem(code: string | undefined): string {
  const { status, detail } = (code === undefined ? undefined : PARSER_PROBLEMS[code]) ?? UNREADABLE_REQUEST;
  const title = problemStatusTitle(status);
  // No `instance`: a request the parser could not read has no path to name.
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  return [
    `HTTP/1.1 ${status} ${title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Requests Node's HTTP parser refuses never reach express, and Node answers them with a bare status
 * line. They get a problem too, then the connection closes, since nobody can tell where the next
 * request would begin. A response still being sent on the connection is finished first, so that
 * the problem follows it instead of cutting into it; a client that is gone gets nothing.
 */
export function answerParserErrors(server: Server): void {
  const lastResponse = new WeakMap<Duplex, ServerResponse>();
  // The parser reports every later chunk of a refused connection again: it is answered once.
  const answered = new WeakSet<Duplex>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    lastResponse.set(request.socket, response);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (answered.has(socket)) return;
    answered.add(socket);
    const answer = (): void => {
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(rawProblem(error.code));
      // Destroyed with what the client still sends unread, the connection would be reset, and the
      // client could lose the answer before reading it: it goes once the client closes its side.
      const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
      socket.once('end', () => socket.destroy());
      socket.once('close', () => clearTimeout(linger));
    };
    const sending = lastResponse.get(socket);
    if (sending && !sending.writableFinished) sending.once('close', answer);
    else answer();
  });
}
