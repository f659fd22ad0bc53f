import type { DomainEvent } from '../domain/shared/decider.js';
import { categoryOfEventType, CURRENT_SCHEMA_VERSION, type ShopEvent } from '../domain/shopEvents.js';
import type { EventMetadata, RecordedEvent } from '../eventstore/eventStore.js';
import { validateStreamId } from '../eventstore/validation.js';

/** A shop event as it was recorded: the domain event, and where, when and why it was stored. */
export interface StoredEvent<Event extends ShopEvent = ShopEvent> {
  event: Event;
  id: string;
  streamId: string;
  revision: number;
  position: number;
  recordedAt: Date;
  metadata: EventMetadata;
}

/** A recorded event the shop cannot read: it will never read it, however often it tries. */
export class UndecodableEvent extends Error {
  override readonly name = 'UndecodableEvent';
  constructor(
    readonly eventId: string,
    reason: string,
  ) {
    super(`event ${eventId} cannot be read: ${reason}`);
  }
}

/**
 * The one step from what the store holds to the shop's event union. The store has already upcast
 * old schema versions; an event still at another version, of an unknown type or in a stream of
 * another category was written by code this one does not know, and is refused rather than guessed at.
 */
export function decodeStoredEvent(recorded: RecordedEvent): StoredEvent {
  const category = categoryOfEventType(recorded.type);
  if (category === undefined) throw new UndecodableEvent(recorded.id, `unknown type ${recorded.type}`);
  if (category !== validateStreamId(recorded.streamId)) {
    throw new UndecodableEvent(recorded.id, `a ${recorded.type} does not belong in ${recorded.streamId}`);
  }
  if (recorded.metadata.schemaVersion !== CURRENT_SCHEMA_VERSION) {
    throw new UndecodableEvent(
      recorded.id,
      `${recorded.type} is at schema version ${String(recorded.metadata.schemaVersion)}, ` +
        `this code reads version ${CURRENT_SCHEMA_VERSION}`,
    );
  }
  // The type names its data's shape: a decider wrote it so, and no event is ever changed.
  const event: DomainEvent = { type: recorded.type, data: recorded.data };
  return {
    event: event as ShopEvent,
    id: recorded.id,
    streamId: recorded.streamId,
    revision: recorded.revision,
    position: recorded.position,
    recordedAt: recorded.recordedAt,
    metadata: recorded.metadata,
  };
}
