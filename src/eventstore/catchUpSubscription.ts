import type { RecordedEvent } from './eventStore.js';
import type { ChangeSignal } from './changeSignal.js';

export interface Batch {
  events: RecordedEvent[];
  /** Committed events exist that cannot be delivered yet without risking a gap. */
  heldBack: boolean;
}

export interface CatchUpOptions {
  fromPosition: number;
  batchSize: number;
  readBatch(fromPosition: number, maxCount: number): Promise<Batch>;
  /** The category the batches are read from, if one: changes to others do not wake the reader. */
  category?: string | undefined;
  changes: ChangeSignal;
  /** How soon to look again while events are held back. */
  heldBackPollMs: number;
  /** How soon to look again with no wake-up at all: a safety net for lost notifications. */
  idlePollMs: number;
  signal?: AbortSignal | undefined;
}

/** Reads batches from a position, then waits for changes, for as long as the signal allows. */
export async function* catchUp(options: CatchUpOptions): AsyncGenerator<RecordedEvent> {
  const { changes, signal } = options;
  let next = options.fromPosition;
  while (!signal?.aborted) {
    const versionBeforeRead = changes.version;
    const { events, heldBack } = await options.readBatch(next, options.batchSize);
    for (const event of events) {
      if (signal?.aborted) return;
      yield event;
      next = event.position + 1;
    }
    if (events.length === options.batchSize) continue;
    await changes.waitForChange(
      versionBeforeRead,
      { fromPosition: next, category: options.category },
      heldBack ? options.heldBackPollMs : options.idlePollMs,
      signal,
    );
  }
}
