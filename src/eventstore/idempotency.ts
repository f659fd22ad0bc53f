import type { AppendResult, EventToAppend, ExpectedRevision, RecordedEvent } from './eventStore.js';
import { DuplicateEventId, WrongExpectedVersion } from './errors.js';

/**
 * When an append conflicts, it may be a retry of one that already succeeded (say, its answer was
 * lost). It was if the same ids are stored, in the same order, one after another, where this append
 * would have put them. `stored` holds the stream's events that carry any of the appended ids.
 */
function earlierIdenticalAppend(
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
  stored: readonly RecordedEvent[],
): AppendResult | undefined {
  if (stored.length !== events.length) return undefined;
  const sorted = [...stored].sort((a, b) => a.revision - b.revision);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (!first || !last) return undefined;
  if (typeof expected === 'number' && first.revision !== expected + 1) return undefined;
  if (expected === 'no_stream' && first.revision !== 0) return undefined;
  const inPlace = sorted.every(
    (event, index) => event.id === events[index]?.id && event.revision === first.revision + index,
  );
  return inPlace ? { revision: last.revision, position: last.position } : undefined;
}

/** Whether a stream at revision `actual` (-1: absent) meets the expectation. */
export function expectationHolds(expected: ExpectedRevision, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === -1;
    case 'stream_exists':
      return actual >= 0;
    default:
      return expected === actual;
  }
}

/**
 * Settles an append that could not go ahead: the retry of one already stored answers that
 * append's result; otherwise an id stored elsewhere is a DuplicateEventId, and a stream that moved
 * on is a WrongExpectedVersion. `stored` holds the stored events that carry any appended id.
 */
export function settleConflict(
  streamId: string,
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
  actual: number,
  stored: readonly RecordedEvent[],
): AppendResult {
  const earlier = earlierIdenticalAppend(
    events,
    expected,
    stored.filter((event) => event.streamId === streamId),
  );
  if (earlier) return earlier;
  if (stored.length > 0 && expectationHolds(expected, actual)) {
    throw new DuplicateEventId(
      streamId,
      stored.map((event) => event.id),
    );
  }
  throw new WrongExpectedVersion(streamId, expected, actual);
}
