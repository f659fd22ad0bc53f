import type { EventToAppend, ExpectedRevision, JsonValue } from './eventStore.js';
import { InvalidEventStoreRequest } from './errors.js';

const MAX_EVENTS_PER_APPEND = 1000;
/** EventStoreDB's default limit for one event; the other adapters keep the same so they stay swappable. */
const MAX_EVENT_BYTES = 1_048_576;
const MAX_READ_COUNT = 10_000;

const CATEGORY = /^[a-z][a-zA-Z0-9]{0,49}$/;
const STREAM_ID = /^([a-z][a-zA-Z0-9]{0,49})-[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/;
const EVENT_TYPE = /^[A-Z][A-Za-z0-9]{0,99}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Returns the stream's category, the part before the first dash. */
export function validateStreamId(streamId: unknown): string {
  const match = typeof streamId === 'string' ? STREAM_ID.exec(streamId) : null;
  if (!match?.[1]) {
    throw new InvalidEventStoreRequest(
      'streamId',
      `${JSON.stringify(streamId)} is not <category>-<id> (category: a lowercase letter then letters or digits)`,
    );
  }
  return match[1];
}

export function validateCategory(category: unknown): string {
  if (typeof category !== 'string' || !CATEGORY.test(category)) {
    throw new InvalidEventStoreRequest('category', `${JSON.stringify(category)} is not a stream category`);
  }
  return category;
}

export function validateExpectedRevision(expected: unknown): ExpectedRevision {
  if (expected === 'no_stream' || expected === 'stream_exists' || expected === 'any') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new InvalidEventStoreRequest(
    'expectedRevision',
    `${JSON.stringify(expected)} is neither a revision (an integer >= 0) nor no_stream, stream_exists or any`,
  );
}

export function validateNonNegativeInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidEventStoreRequest(field, `${JSON.stringify(value)} is not an integer >= 0`);
  }
  return value;
}

export function validateMaxCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_READ_COUNT) {
    throw new InvalidEventStoreRequest(
      'maxCount',
      `${JSON.stringify(value)} is not an integer in 1..${MAX_READ_COUNT}`,
    );
  }
  return value;
}

export function validateEvents(events: unknown): readonly EventToAppend[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidEventStoreRequest('events', 'an append needs at least one event');
  }
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidEventStoreRequest('events', `at most ${MAX_EVENTS_PER_APPEND} events in one append`);
  }
  const ids = new Set<string>();
  events.forEach((event: unknown, index) => {
    validateEvent(event, `events[${index}]`);
    if (ids.has(event.id))
      throw new InvalidEventStoreRequest(`events[${index}].id`, 'repeated in the same append');
    ids.add(event.id);
  });
  return events as EventToAppend[];
}

function validateEvent(event: unknown, path: string): asserts event is EventToAppend {
  if (!isPlainObject(event)) throw new InvalidEventStoreRequest(path, 'is not an object');
  const { id, type, data, metadata } = event;
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw new InvalidEventStoreRequest(`${path}.id`, 'is not a lowercase UUID');
  }
  if (typeof type !== 'string' || !EVENT_TYPE.test(type)) {
    throw new InvalidEventStoreRequest(
      `${path}.type`,
      `${JSON.stringify(type)} is not a PascalCase event type`,
    );
  }
  if (!isPlainObject(data)) throw new InvalidEventStoreRequest(`${path}.data`, 'is not a JSON object');
  assertJson(data, `${path}.data`);
  if (!isPlainObject(metadata))
    throw new InvalidEventStoreRequest(`${path}.metadata`, 'is not a JSON object');
  assertJson(metadata, `${path}.metadata`);
  for (const field of ['correlationId', 'causationId', 'actor'] as const) {
    const value = metadata[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
      throw new InvalidEventStoreRequest(`${path}.metadata.${field}`, 'is not a string of 1..255 characters');
    }
  }
  const { schemaVersion } = metadata;
  if (typeof schemaVersion !== 'number' || !Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
    throw new InvalidEventStoreRequest(`${path}.metadata.schemaVersion`, 'is not an integer >= 1');
  }
  if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
    throw new InvalidEventStoreRequest(path, `is larger than ${MAX_EVENT_BYTES} bytes`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** NUL and lone surrogates survive JSON.stringify but not PostgreSQL's jsonb, nor every other reader. */
function isStorableText(text: string): boolean {
  return !text.includes('\0') && !LONE_SURROGATE.test(text);
}

function assertJson(value: unknown, path: string, seen = new Set<object>()): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidEventStoreRequest(path, `${value} is not a JSON number`);
    return;
  }
  if (typeof value === 'string') {
    if (!isStorableText(value)) {
      throw new InvalidEventStoreRequest(path, 'contains a NUL character or a lone surrogate');
    }
    return;
  }
  if (typeof value !== 'object') throw new InvalidEventStoreRequest(path, `a ${typeof value} is not JSON`);
  if (seen.has(value)) throw new InvalidEventStoreRequest(path, 'is a circular reference');
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertJson(item, `${path}[${index}]`, seen));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) throw new InvalidEventStoreRequest(path, 'has a key that cannot be stored');
      assertJson(item, `${path}.${key}`, seen);
    }
  } else {
    throw new InvalidEventStoreRequest(path, `a ${value.constructor.name} is not plain JSON`);
  }
  seen.delete(value);
}
