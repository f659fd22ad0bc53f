const NOT_READY = Symbol('not ready');

/**
 * Groups what a source has ready at once: while it catches up, its events come from pages already
 * read and batches fill up; when it is live, each event comes alone and is handed on alone, at once.
 */
export async function* readyBatches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    yield* batchesOf(iterator, iterator.next(), maxSize);
  } finally {
    await iterator.return?.();
  }
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
    next = iterator.next();
    while (batch.length < maxSize) {
      const ready = await Promise.race([next, turnEnds]);
      if (ready === NOT_READY) break;
      if (ready.done) {
        yield batch;
        return;
      }
      batch.push(ready.value);
      next = iterator.next();
    }
    yield batch;
  }
}
