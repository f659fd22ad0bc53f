import type { DomainEvent } from '../../src/domain/shared/decider.js';
import { eventStreams, type EventStreams } from '../../src/commands/eventStreams.js';
import type { InMemoryEventStore } from '../../src/eventstore/inMemoryEventStore.js';
import type { JsonObject } from '../../src/eventstore/eventStore.js';

/** The shop's event streams over an in-memory store, with no personal data to seal. */
export function memoryStreams(store: InMemoryEventStore): EventStreams {
  return eventStreams(store, {
    encode: async (event: DomainEvent) => event.data as JsonObject,
    revealAll: async (events) => [...events],
  });
}
