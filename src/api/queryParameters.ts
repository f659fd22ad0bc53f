import type { Request } from 'express';
import { ValidationError } from '../domain/shared/errors.js';
import { parseInstant, parseWholeNumber } from './http.js';
import { acceptedUuid } from './pathIds.js';
import { textFault } from './text.js';

/** API.md: `?page=0&size=20`, page >= 0, 1 <= size <= 100. */
export const PAGE_SIZE_DEFAULT = 20;
export const PAGE_SIZE_MAX = 100;
/** A search longer than this is no search anyone types. */
export const SEARCH_MAX_LENGTH = 200;

/** A request's query, refusing parameters the route does not know: a misspelt filter is an error. */
export function queryOf(request: Request, known: readonly string[]): Record<string, unknown> {
  const unknown = Object.keys(request.query).find((name) => !known.includes(name));
  if (unknown !== undefined) throw new ValidationError(unknown, 'is not a parameter of this request');
  return request.query;
}

/** A parameter given once, as text: `?a=1&a=2` and `?a[b]=1` are refused. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ValidationError(name, 'must be given once, as plain text');
  return value;
}

export function wholeNumberParameter(
  query: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  const number = parseWholeNumber(value);
  if (number === undefined || number < min || number > max) {
    throw new ValidationError(name, `must be a whole number from ${min} to ${max}`);
  }
  return number;
}

export function oneOfParameter<Value extends string>(
  query: Record<string, unknown>,
  name: string,
  values: readonly Value[],
): Value | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) {
    throw new ValidationError(name, `must be one of ${values.join(', ')}`);
  }
  return value as Value;
}

export function idParameter(query: Record<string, unknown>, name: string): string | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const id = acceptedUuid(value);
  if (id === undefined) throw new ValidationError(name, 'must be an id (a UUID)');
  return id;
}

/** Text the shop can take (no control character, no lone surrogate), up to `maxLength`. */
export function textParameter(
  query: Record<string, unknown>,
  name: string,
  maxLength: number,
): string | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const fault = textFault(value);
  if (fault !== undefined) throw new ValidationError(name, fault);
  if (value.length > maxLength) throw new ValidationError(name, `must be at most ${maxLength} characters`);
  return value;
}

/** A calendar day, YYYY-MM-DD, that exists: 2026-02-30 is refused, not rolled over. */
export function dayParameter(query: Record<string, unknown>, name: string): string {
  const value = single(query, name);
  if (value === undefined) throw new ValidationError(name, 'is required: a day, YYYY-MM-DD');
  // The day's first instant, checked against the calendar as every instant the shop takes is.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || parseInstant(`${value}T00:00:00Z`) === undefined) {
    throw new ValidationError(name, 'must be a day that exists, YYYY-MM-DD');
  }
  return value;
}

export interface PageRequest {
  page: number;
  size: number;
}

export function pageParameters(query: Record<string, unknown>): PageRequest {
  return {
    page: wholeNumberParameter(query, 'page', 0, 0, 1_000_000),
    size: wholeNumberParameter(query, 'size', PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX),
  };
}

/** API.md's page of a list. */
export function pageOf<Item>(items: Item[], { page, size }: PageRequest, totalItems: number) {
  return { items, page, size, totalItems, totalPages: Math.ceil(totalItems / size) };
}
