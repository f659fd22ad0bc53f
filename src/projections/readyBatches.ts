const NOT_READY = Symbol('not ready');

/**
 * Groups what a source has ready at once: what it already read (a page, an append of several
 * events) is handed on together, and an event that comes alone is handed on alone, at once.
 */
export async function* readyBatches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    yield* batchesOf(iterator, readAhead(iterator), maxSize);
  } finally {
    await iterator.return?.();
  }
}

/**
 * The next item, asked for before it is wanted. If the reader stops first, it may never be awaited:
 * its failure must not become an unhandled rejection.
 */
function readAhead<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T>> {
  const next = iterator.next();
  next.catch(() => undefined);
  return next;
}

async function* batchesOf<T>(
  iterator: AsyncIterator<T>,
  pending: Promise<IteratorResult<T>>,
  maxSize: number,
): AsyncGenerator<T[]> {
  let next = pending;
  for (;;) {
    const first = await next;
    if (first.done) return;
    const batch = [first.value];
    // What resolves before this turn's end was already read; one tick a batch tells them apart.
    const turnEnds = new Promise<typeof NOT_READY>((resolve) => setImmediate(resolve, NOT_READY));
    next = readAhead(iterator);
    while (batch.length < maxSize) {
      const ready = await Promise.race([next, turnEnds]);
      if (ready === NOT_READY) break;
      if (ready.done) {
        yield batch;
        return;
      }
      batch.push(ready.value);
      next = readAhead(iterator);
    }
    yield batch;
  }
}
