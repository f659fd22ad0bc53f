import { expect } from 'chai';
import { decodeStoredEvent, type StoredEvent, storedEventDecoder } from '../../src/commands/storedEvents.js';
import type { JsonObject, RecordedEvent } from '../../src/eventstore/eventStore.js';
import type { Upcaster } from '../../src/eventstore/upcasting.js';
import { sqlQueryOn } from '../../src/infrastructure/postgres/database.js';
import { type Projection, PROJECTIONS } from '../../src/projections/projections.js';
import { appendRandomShop, dumpReadModels, READ_MODEL_TABLES } from '../support/randomShop.js';
import { openRunnerProcess, type RunnerProcess } from '../support/runnerFixture.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/** Money as an older schema version of this spec's making had it: a decimal string, not cents. */
const decimal = (cents: unknown): string => (Number(cents) / 100).toFixed(2);
const cents = (amount: unknown): number => Math.round(Number(amount) * 100);

/**
 * A past the shop has not had, made up for this spec: at schema version 0 prices were decimal
 * strings. `older` writes an event as version 0 would have; the upcasters read it back as version 1.
 */
const UPCASTERS: Upcaster[] = [
  {
    eventType: 'ProductCreated',
    fromSchemaVersion: 0,
    upcast: ({ price, ...data }) => ({ ...data, priceCents: cents(price) }),
  },
  {
    eventType: 'OrderPlaced',
    fromSchemaVersion: 0,
    upcast: ({ total, items, ...data }) => ({
      ...data,
      totalCents: cents(total),
      items: (items as JsonObject[]).map(({ unitPrice, ...item }) => ({
        ...item,
        unitPriceCents: cents(unitPrice),
      })),
    }),
  },
];

function older(event: RecordedEvent): RecordedEvent {
  const asVersion0 = (data: JsonObject): RecordedEvent => ({
    ...event,
    data,
    metadata: { ...event.metadata, schemaVersion: 0 },
  });
  if (event.type === 'ProductCreated') {
    const { priceCents, ...data } = event.data;
    return asVersion0({ ...data, price: decimal(priceCents) });
  }
  if (event.type === 'OrderPlaced') {
    const { totalCents, items, ...data } = event.data;
    return asVersion0({
      ...data,
      total: decimal(totalCents),
      items: (items as JsonObject[]).map(({ unitPriceCents, ...item }) => ({
        ...item,
        unitPrice: decimal(unitPriceCents),
      })),
    });
  }
  return event;
}

describe('Projectors given events upcast from an older schema version', () => {
  let database: TestDatabase;
  let shop: RunnerProcess;
  let recorded: RecordedEvent[];

  before(async () => {
    database = await createTestDatabase();
    shop = openRunnerProcess(database.connectionString);
    await appendRandomShop(shop, 800);
    recorded = await shop.store.readAll({ fromPosition: 0, maxCount: 10_000 });
  });

  after(async () => {
    await shop.close();
    await database.drop();
  });

  /** The projection's tables after its projector is handed `events` from empty tables. */
  const tablesFrom = async (projection: Projection, events: StoredEvent[]) => {
    const { schema } = projection;
    const tables = Object.keys(READ_MODEL_TABLES).filter((table) => table.startsWith(`${schema}.`));
    await shop.pool.query(`TRUNCATE ${tables.join(', ')}`);
    const client = await shop.pool.connect();
    try {
      await client.query('BEGIN');
      await projection
        .projector(schema)
        .handle(events, { query: sqlQueryOn(client), afterCommit: () => undefined });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    return dumpReadModels(shop.pool, [schema]);
  };

  for (const projection of PROJECTIONS) {
    it(`the ${projection.name} projector builds from them the tables their current form gives`, async () => {
      const olderForms = recorded.map(older);
      expect(olderForms.filter((event) => event.metadata.schemaVersion === 0)).to.have.length.above(50);
      const upcast = olderForms.map(storedEventDecoder(UPCASTERS));

      const fromUpcast = await tablesFrom(projection, upcast);
      const fromCurrent = await tablesFrom(projection, recorded.map(decodeStoredEvent));
      expect(Object.values(fromCurrent).flat()).to.have.length.above(10);
      expect(fromUpcast).to.deep.equal(fromCurrent);
    });
  }
});
