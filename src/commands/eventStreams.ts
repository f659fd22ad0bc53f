import type { DomainEvent } from '../domain/shared/decider.js';
import type { ShopEvent } from '../domain/shopEvents.js';
import type { EventStore, JsonObject, RecordedEvent } from '../eventstore/eventStore.js';
import { decodeStoredEvent, type StoredEvent } from './storedEvents.js';

/** Seals personal data into events on the way in and opens it on the way out. */
export interface PersonalDataCodec {
  encode(event: DomainEvent): Promise<JsonObject>;
  revealAll(events: readonly RecordedEvent[]): Promise<RecordedEvent[]>;
}

export interface StreamContent {
  events: StoredEvent[];
  /** The revision of the last event read; -1 if none was. */
  revision: number;
  /** The global position of the stream's last event. */
  position: number | undefined;
}

/**
 * The event store as commands use it: shop events in and out of one stream at a time, personal
 * data sealed on the way in and opened on the way out, so that no command can forget either.
 */
export interface EventStreams {
  store: EventStore;
  /** The stream's events from `fromRevision` (the first when left out). */
  read(streamId: string, fromRevision?: number): Promise<StreamContent>;
  /** What is stored for each event: its data with personal fields sealed. */
  encode(events: readonly ShopEvent[]): Promise<JsonObject[]>;
}

export function eventStreams(store: EventStore, codec: PersonalDataCodec): EventStreams {
  return {
    store,
    read: async (streamId, fromRevision) => {
      const recorded = await codec.revealAll(
        await store.readStream(streamId, fromRevision === undefined ? {} : { fromRevision }),
      );
      return {
        events: recorded.map(decodeStoredEvent),
        revision: recorded.at(-1)?.revision ?? -1,
        position: recorded.at(-1)?.position,
      };
    },
    encode: (events) => Promise.all(events.map((event) => codec.encode(event))),
  };
}
