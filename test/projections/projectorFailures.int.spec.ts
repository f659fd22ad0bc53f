import { expect } from 'chai';
import { decodeStoredEvent, type StoredEvent } from '../../src/commands/storedEvents.js';
import type { RecordedEvent } from '../../src/eventstore/eventStore.js';
import { rebuildProjections } from '../../src/infrastructure/postgres/projectionRebuild.js';
import type { Consumer } from '../../src/projections/consumer.js';
import { type Projection, PROJECTIONS } from '../../src/projections/projections.js';
import { retryParked } from '../../src/projections/subscriptionRunner.js';
import { appendRandomShop, dumpReadModels, READ_MODEL_TABLES } from '../support/randomShop.js';
import { openRunnerProcess, type RunnerProcess } from '../support/runnerFixture.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

/** Batches small enough that a store of 1,200 events makes many of them. */
const BATCH = 100;

describe('The read models’ projectors when they fail', () => {
  let database: TestDatabase;
  let shop: RunnerProcess;
  let recorded: RecordedEvent[];
  let everything: StoredEvent[];

  before(async () => {
    database = await createTestDatabase();
    shop = openRunnerProcess(database.connectionString);
    await appendRandomShop(shop, 1200);
    recorded = await shop.store.readAll({ fromPosition: 0, maxCount: 10_000 });
    everything = recorded.map(decodeStoredEvent);
  });

  after(async () => {
    await shop.close();
    await database.drop();
  });

  /** Empties the projection's tables and forgets its checkpoint and parked events: a first start. */
  const reset = async ({ name, schema }: Projection): Promise<void> => {
    const tables = Object.keys(READ_MODEL_TABLES).filter((table) => table.startsWith(`${schema}.`));
    await shop.pool.query(`TRUNCATE ${tables.join(', ')}`);
    await shop.pool.query('DELETE FROM consumer_checkpoints WHERE consumer = $1', [name]);
    await shop.pool.query('DELETE FROM parked_events WHERE consumer = $1', [name]);
  };

  const runToTheHead = async (consumer: Consumer): Promise<void> => {
    const runner = shop.runner(consumer, { maxBatchSize: BATCH });
    runner.start();
    const head = await shop.store.headPosition();
    try {
      await waitFor(
        async () => (await shop.consumers.checkpoint(consumer.name)) >= head,
        30_000,
        () => `${consumer.name} never reached the head`,
      );
    } finally {
      await runner.stop();
    }
  };

  /** The tables of a run without a failure: a rebuild from the first event, swapped in. */
  const cleanRun = async (projection: Projection): Promise<Record<string, unknown[]>> => {
    await rebuildProjections({ pool: shop.pool, source: shop.source, projections: [projection] });
    return dumpReadModels(shop.pool, [projection.schema]);
  };

  for (const projection of PROJECTIONS) {
    describe(`the ${projection.name} projector`, () => {
      beforeEach(() => reset(projection));

      it('leaves its tables and checkpoint as before a batch it throws midway through, and ends as an uninterrupted run', async () => {
        const real = projection.projector(projection.schema);
        const failed: { first: number; tables: unknown; checkpoint: number }[] = [];
        const afterFailure: typeof failed = [];
        const crashing: Consumer = {
          ...real,
          handle: async (events, tx) => {
            const first = (events[0] as StoredEvent).position;
            const seen = async () => ({
              first,
              tables: await dumpReadModels(shop.pool, [projection.schema]),
              checkpoint: await shop.consumers.checkpoint(real.name),
            });
            // The runner hands a failed batch over again event by event: the first of them is
            // handled where the failed batch began.
            if (failed.some((failure) => failure.first === first) && afterFailure.length < failed.length)
              afterFailure.push(await seen());
            if (events.length > 1 && failed.length < 3) {
              failed.push(await seen());
              await real.handle(events.slice(0, Math.ceil(events.length / 2)), tx);
              throw new Error('the process died midway through the batch');
            }
            await real.handle(events, tx);
          },
        };

        await runToTheHead(crashing);
        expect(failed).to.have.length(3);
        for (const [index, before] of failed.entries()) {
          const after = afterFailure[index];
          expect(after?.tables, 'the tables after a failed batch').to.deep.equal(before.tables);
          // The checkpoint may have moved past events the projector does not want, never into the batch.
          expect(after?.checkpoint).to.be.within(before.checkpoint, before.first - 1);
        }
        expect(await shop.consumers.parked(real.name)).to.deep.equal([]);
        const interrupted = await dumpReadModels(shop.pool, [projection.schema]);
        expect(await cleanRun(projection)).to.deep.equal(interrupted);
      });

      it('parks the stream of an event it keeps failing on, lets the others flow, and after the fix and retry-parked ends as a clean run', async () => {
        const real = projection.projector(projection.schema);
        const wanted = recorded.filter((event) => real.wants?.(event) ?? true);
        const fault = wanted[Math.floor(wanted.length / 2)] as RecordedEvent;
        const parkedBehind = wanted.filter(
          (event) => event.streamId === fault.streamId && event.position >= fault.position,
        );
        let fixed = false;
        const failing: Consumer = {
          ...real,
          handle: async (events, tx) => {
            if (!fixed && events.some((event) => event.id === fault.id))
              throw new Error('a projector bug, for this one event');
            await real.handle(events, tx);
          },
        };

        await runToTheHead(failing);
        const parked = await shop.consumers.parked(real.name);
        expect(parked.map((entry) => entry.eventId)).to.deep.equal(parkedBehind.map((event) => event.id));
        const whileParked = await dumpReadModels(shop.pool, [projection.schema]);

        fixed = true;
        const outcome = await retryParked(failing, shop.consumers, shop.source);
        expect(outcome).to.deep.equal({ retried: parkedBehind.length, failed: [] });
        expect(await shop.consumers.parked(real.name)).to.deep.equal([]);
        const retried = await dumpReadModels(shop.pool, [projection.schema]);
        const clean = await cleanRun(projection);
        expect(retried).to.deep.equal(clean);

        // While the stream was parked, every row it has nothing to do with was as in the clean run.
        const touched = idsOf(everything.filter((event) => event.streamId === fault.streamId));
        const untouched = (rows: unknown[] = []) =>
          rows.filter((row) => !Object.values(row as object).some((value) => touched.has(String(value))));
        for (const table of Object.keys(clean)) {
          expect(untouched(whileParked[table]), table).to.deep.equal(untouched(clean[table]));
        }
        expect(whileParked).to.not.deep.equal(clean);
      });
    });
  }
});

/** The ids a stream's events name: its own, and the products of an order's lines. */
function idsOf(events: readonly StoredEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const { event } of events) {
    for (const [field, value] of Object.entries(event.data)) {
      if (field.endsWith('Id') && typeof value === 'string') ids.add(value);
    }
    if (event.type === 'OrderPlaced') for (const item of event.data.items) ids.add(item.productId);
  }
  return ids;
}
