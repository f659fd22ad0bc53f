import type { DomainEvent } from '../domain/shared/decider.js';
import { categoryOfEventType, CURRENT_SCHEMA_VERSION, type ShopEvent } from '../domain/shopEvents.js';
import type { EventMetadata, RecordedEvent } from '../eventstore/eventStore.js';
import { type Upcaster, upcasterChain } from '../eventstore/upcasting.js';
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
 * How older schema versions of the shop's events become the current one, one version at a time.
 * None yet: every event the shop has written is at version 1. A change to an event's data adds
 * its upcaster here, and raises `CURRENT_SCHEMA_VERSION`.
 */
export const SHOP_UPCASTERS: readonly Upcaster[] = [];

/**
 * The one step from what the store holds to the shop's event union: older schema versions are
 * upcast; an event still at another version, of an unknown type or in a stream of another
 * category was written by code this one does not know, and is refused rather than guessed at.
 */
export function storedEventDecoder(upcasters: readonly Upcaster[]): (recorded: RecordedEvent) => StoredEvent {
  const upcast = upcasterChain(upcasters);
  return (stored) => {
    const recorded = upcast(stored);
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
    // The type names its data's shape: a decider wrote it so, and an upcaster kept it so.
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
  };
}

export const decodeStoredEvent = storedEventDecoder(SHOP_UPCASTERS);
