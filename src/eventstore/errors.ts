import type { ExpectedRevision } from './eventStore.js';

/** The stream's revision is not the one the writer expected: somebody else wrote first. */
export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at revision ${actual}, expected ${String(expected)}`);
  }
}

/** A request the event store refuses before touching storage: nothing was written. */
export class InvalidEventStoreRequest extends Error {
  override readonly name = 'InvalidEventStoreRequest';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** An event id that is already stored somewhere other than where this append would put it. */
export class DuplicateEventId extends Error {
  override readonly name = 'DuplicateEventId';
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
  ) {
    super(`event ids already stored elsewhere than at the end of ${streamId}: ${eventIds.join(', ')}`);
  }
}
