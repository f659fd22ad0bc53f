import type { FieldError } from './problemDetails.js';
import { textFault } from './text.js';

/** Enough for a client to see what is wrong, without an answer larger than the body it refuses. */
const MAX_LISTED_FAULTS = 50;

interface Pending {
  value: unknown;
  path: string;
}

const childPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/**
 * What no JSON body may hold, whatever its route: text the event store refuses or no field means
 * (see `textFault`; tab and newline pass here, a single-line field refuses them itself), in values
 * and in field names alike.
 */
export function bodyFaults(body: unknown): FieldError[] {
  const faults: FieldError[] = [];
  // Breadth first, so that faults are listed in the order of the body, shallow ones first.
  const pending: Pending[] = [{ value: body, path: '' }];
  for (let index = 0; index < pending.length && faults.length < MAX_LISTED_FAULTS; index += 1) {
    const { value, path } = pending[index] as Pending;
    if (typeof value === 'string') {
      const fault = textFault(value, { multiline: true });
      if (fault) faults.push({ field: path, message: `${path} ${fault}` });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      value.forEach((item: unknown, position) => pending.push({ value: item, path: `${path}[${position}]` }));
      continue;
    }
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const field = childPath(path, key);
      const keyFault = textFault(key);
      if (keyFault) faults.push({ field, message: `the name of ${field} ${keyFault}` });
      else pending.push({ value: item, path: field });
    }
  }
  return faults.slice(0, MAX_LISTED_FAULTS);
}
