import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { inventories } from '../../src/commands/aggregates.js';
import { type CommandContext, handle, RevisionMismatch } from '../../src/commands/commandHandler.js';
import type { EventStreams } from '../../src/commands/eventStreams.js';
import type { InventoryCommand } from '../../src/domain/inventory/inventory.js';
import { inventoryView } from '../../src/domain/inventory/inventory.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import { InMemoryEventStore } from '../../src/eventstore/inMemoryEventStore.js';
import { WrongExpectedVersion } from '../../src/eventstore/errors.js';
import { memoryStreams } from '../support/memoryStreams.js';

const context: CommandContext = {
  actor: 'shopper',
  correlationId: randomUUID(),
  causationId: randomUUID(),
  requestId: 'req-42',
};

const NOW = '2026-03-01T10:00:00.000Z';

describe('The command handler', () => {
  let store: InMemoryEventStore;
  let streams: EventStreams;
  let productId: string;
  let streamId: string;
  const restock = (quantity: number): InventoryCommand => ({
    type: 'Restock',
    productId,
    quantity,
    now: NOW,
  });
  const release = (orderId: string): InventoryCommand => ({
    type: 'ReleaseReservation',
    productId,
    orderId,
    now: NOW,
  });
  const available = (state: Parameters<typeof inventoryView>[0]): number => inventoryView(state).available;

  beforeEach(() => {
    store = new InMemoryEventStore();
    streams = memoryStreams(store);
    productId = randomUUID();
    streamId = inventories.streamId(productId);
  });

  describe('when the decider emits events', () => {
    it('appends them with the request’s metadata and answers the new state, revision and position', async () => {
      const handled = await handle(streams, inventories, { id: productId, command: restock(2), context });
      const [stored] = await store.readStream(streamId);
      expect(handled).to.deep.include({ revision: 0, position: stored?.position });
      expect(available(handled.state)).to.equal(2);
      expect(stored?.metadata).to.deep.equal({
        actor: 'shopper',
        correlationId: context.correlationId,
        causationId: context.causationId,
        requestId: 'req-42',
        schemaVersion: 1,
      });
    });
  });

  describe('when the decider emits nothing', () => {
    it('appends nothing and answers no position for a stream still empty', async () => {
      const handled = await handle(streams, inventories, {
        id: productId,
        command: release(randomUUID()),
        context,
      });
      expect(handled).to.deep.include({ revision: -1, position: undefined, events: [] });
      expect(await store.readStream(streamId)).to.deep.equal([]);
    });
  });

  describe('when the decider refuses', () => {
    it('passes the domain error on and appends nothing', async () => {
      await handle(streams, inventories, { id: productId, command: restock(1), context });
      const refused = handle(streams, inventories, { id: productId, command: restock(0), context });
      const error = await refused.catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(ValidationError);
      expect(await store.readStream(streamId)).to.have.length(1);
    });
  });

  describe('with If-Match', () => {
    it('refuses a stale revision with RevisionMismatch and appends nothing', async () => {
      await handle(streams, inventories, { id: productId, command: restock(1), context });
      const error = await handle(streams, inventories, {
        id: productId,
        command: restock(1),
        context,
        ifMatch: 5,
      }).catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(RevisionMismatch).and.to.include({ expected: 5, actual: 0 });
      expect(await store.readStream(streamId)).to.have.length(1);
    });

    it('applies the command at the revision it names', async () => {
      await handle(streams, inventories, { id: productId, command: restock(1), context });
      const handled = await handle(streams, inventories, {
        id: productId,
        command: restock(1),
        context,
        ifMatch: 0,
      });
      expect(handled.revision).to.equal(1);
    });
  });

  describe('under concurrency', () => {
    it('lands all of 20 concurrent commands on one stream, taking turns', async () => {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          handle(streams, inventories, { id: productId, command: restock(1), context }),
        ),
      );
      expect(await store.readStream(streamId)).to.have.length(20);
    });

    /** Streams where another process appends to the stream right after the handler's first read. */
    function racedByAnotherProcess(): EventStreams {
      let raced = false;
      return {
        ...streams,
        read: async (id) => {
          const read = await streams.read(id);
          if (!raced) {
            raced = true;
            await store.append(
              id,
              [
                {
                  id: randomUUID(),
                  type: 'StockRestocked',
                  data: { productId, quantity: 5, at: NOW },
                  metadata: { ...context, schemaVersion: 1 },
                },
              ],
              'any',
            );
          }
          return read;
        },
      };
    }

    it('decides again on a fresh read after losing a race, when that is safe', async () => {
      const handled = await handle(racedByAnotherProcess(), inventories, {
        id: productId,
        command: restock(1),
        context,
        retryOnConflict: true,
      });
      expect(handled.revision).to.equal(1);
      expect(available(handled.state)).to.equal(6);
    });

    it('reports the lost race when re-deciding is not safe, appending nothing', async () => {
      const error = await handle(racedByAnotherProcess(), inventories, {
        id: productId,
        command: restock(1),
        context,
      }).catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(WrongExpectedVersion);
      expect(await store.readStream(streamId)).to.have.length(1);
    });
  });

  describe('with event ids derived from the command', () => {
    it('appends nothing new when the same command is delivered again', async () => {
      const eventId = (): string => '7d3c0c44-2b5e-4f53-9a5e-3f8a2c1b0d11';
      const command = restock(1);
      const first = await handle(streams, inventories, { id: productId, command, context, eventId });
      const again = await handle(streams, inventories, { id: productId, command, context, eventId });
      expect(first.events).to.have.length(1);
      expect(again).to.deep.include({ events: [], position: first.position });
      expect(available(again.state)).to.equal(1);
      expect(await store.readStream(streamId)).to.have.length(1);
    });
  });

  describe('given the state as the caller read it', () => {
    it('decides on it, and on a fresh read when the stream moved on since', async () => {
      const before = await handle(streams, inventories, { id: productId, command: restock(2), context });
      await handle(memoryStreams(store), inventories, { id: productId, command: restock(5), context });
      const handled = await handle(memoryStreams(store), inventories, {
        id: productId,
        command: restock(1),
        context,
        known: before,
      });
      expect(handled.revision).to.equal(2);
      expect(inventoryView(handled.state).onHand).to.equal(8);
    });
  });

  describe('for an aggregate whose folded state it keeps', () => {
    /** Records the revision each read of the store starts from. */
    const countingReads = (): (number | undefined)[] => {
      const reads: (number | undefined)[] = [];
      const readStream = store.readStream.bind(store);
      store.readStream = (id, options) => {
        reads.push(options?.fromRevision);
        return readStream(id, options);
      };
      return reads;
    };

    it('decides on the state it kept without reading, the append checking that nothing came since', async () => {
      await handle(streams, inventories, { id: productId, command: restock(2), context });
      const reads = countingReads();
      await handle(streams, inventories, { id: productId, command: restock(3), context });
      const handled = await handle(streams, inventories, { id: productId, command: restock(4), context });
      expect(reads).to.deep.equal([]);
      expect(inventoryView(handled.state).onHand).to.equal(9);
    });

    it('decides again on the events since when what it kept would do nothing, as it may be stale', async () => {
      const orderId = randomUUID();
      await handle(streams, inventories, { id: productId, command: restock(5), context });
      const elsewhere = memoryStreams(store);
      await handle(elsewhere, inventories, {
        id: productId,
        command: { type: 'ReserveStock', productId, orderId, quantity: 2, now: NOW },
        context,
      });
      const reads = countingReads();
      const handled = await handle(streams, inventories, {
        id: productId,
        command: { type: 'CommitReservation', productId, orderId, now: NOW },
        context,
      });
      expect(reads, 'one read, of the events after the kept state').to.deep.equal([1]);
      expect(handled.events.map((event) => event.type)).to.deep.equal(['ReservationCommitted']);
    });

    it('moves the kept state on by what another writer appended meanwhile', async () => {
      await handle(streams, inventories, { id: productId, command: restock(2), context });
      const elsewhere = memoryStreams(store);
      await handle(elsewhere, inventories, { id: productId, command: restock(5), context });
      const handled = await handle(streams, inventories, { id: productId, command: restock(1), context });
      expect(handled.revision).to.equal(2);
      expect(inventoryView(handled.state).onHand).to.equal(8);
    });
  });
});
