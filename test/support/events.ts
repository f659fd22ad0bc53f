import { randomUUID } from 'node:crypto';
import type { EventToAppend, JsonObject, RecordedEvent } from '../../src/eventstore/eventStore.js';

export function testEvent(type = 'ThingHappened', data: JsonObject = {}): EventToAppend {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: {
      correlationId: randomUUID(),
      causationId: randomUUID(),
      actor: 'system:test',
      schemaVersion: 1,
    },
  };
}

export function testEvents(count: number, type?: string): EventToAppend[] {
  return Array.from({ length: count }, (_, index) => testEvent(type, { index }));
}

/** A category no other test uses, so category reads see only this test's streams. */
export function freshCategory(): string {
  return `t${randomUUID().replaceAll('-', '')}`;
}

export function freshStream(category = 'test'): string {
  return `${category}-${randomUUID()}`;
}

/**
 * Collects from a subscription until `done` holds, or fails after `timeoutMs`. The caller ends the
 * subscription through its abort signal.
 */
export async function collectUntil(
  subscription: AsyncIterable<RecordedEvent>,
  done: (received: RecordedEvent[]) => boolean,
  timeoutMs = 10_000,
): Promise<RecordedEvent[]> {
  const received: RecordedEvent[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (!done(received)) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(deadline - Date.now(), 0));
    });
    const next = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (next === 'timeout') throw new Error(`subscription delivered ${received.length} events, then stalled`);
    if (next.done) break;
    received.push(next.value);
  }
  return received;
}
