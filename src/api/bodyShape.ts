import type { FieldError } from './problemDetails.js';
import { textFault } from './text.js';

/** API.md: a JSON body nested deeper than this is a 400; the body itself is the first level. */
export const MAX_BODY_DEPTH = 32;

/** Enough for a client to see what is wrong, without an answer larger than the body it refuses. */
const MAX_LISTED_FAULTS = 50;

/**
 * Keys that mean something to JavaScript objects rather than to the shop. JSON.parse keeps
 * `__proto__` as an own key, but class-transformer skips it and `constructor` without a word, so
 * that the unknown-field check after it never sees them.
 */
const OBJECT_MACHINERY = new Set(['__proto__', 'constructor', 'prototype']);

interface Pending {
  value: unknown;
  path: string;
  depth: number;
}

const childPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/**
 * What no JSON body may hold, whatever its route: nesting deeper than MAX_BODY_DEPTH, object
 * machinery keys, and text the event store refuses or no field means (see `textFault`; tab and
 * newline pass here, a single-line field refuses them itself), in values and in field names alike.
 * Walked with a queue, not recursion, so that no depth of nesting can overflow it: it runs before
 * class-transformer, which recurses, and would overflow the stack on a body 1,500 levels deep.
 */
export function bodyFaults(body: unknown): FieldError[] {
  const faults: FieldError[] = [];
  // Breadth first, so that faults are listed in the order of the body, shallow ones first.
  const pending: Pending[] = [{ value: body, path: '', depth: 1 }];
  for (let index = 0; index < pending.length && faults.length < MAX_LISTED_FAULTS; index += 1) {
    const { value, path, depth } = pending[index] as Pending;
    if (typeof value === 'string') {
      const fault = textFault(value, { multiline: true });
      if (fault) faults.push({ field: path, message: `${path} ${fault}` });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_BODY_DEPTH) {
      return [{ field: path, message: `${path} is nested deeper than ${MAX_BODY_DEPTH} levels` }];
    }
    if (Array.isArray(value)) {
      value.forEach((item: unknown, position) =>
        pending.push({ value: item, path: `${path}[${position}]`, depth: depth + 1 }),
      );
      continue;
    }
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const field = childPath(path, key);
      const keyFault = textFault(key);
      if (OBJECT_MACHINERY.has(key)) faults.push({ field, message: `property ${key} should not exist` });
      else if (keyFault) faults.push({ field, message: `the name of ${field} ${keyFault}` });
      else pending.push({ value: item, path: field, depth: depth + 1 });
    }
  }
  return faults.slice(0, MAX_LISTED_FAULTS);
}
