import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import { ERASED } from '../../../src/domain/personalData.js';
import { createPool, postgresConnectionConfig } from '../../../src/infrastructure/postgres/database.js';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgresEventStore.js';
import {
  PersonalDataVault,
  type SealedValue,
} from '../../../src/infrastructure/personalData/personalDataVault.js';
import { EventCodec } from '../../../src/infrastructure/personalData/eventCodec.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../support/testDatabase.js';

const address = {
  name: 'Test Recipient',
  line1: '12 St James Square',
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
};

describe('Personal data in events', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let store: PostgresEventStore;
  let vault: PersonalDataVault;
  let codec: EventCodec;

  before(async () => {
    database = await createTestDatabase();
    pool = createPool(database.connectionString, silentLogger);
    store = new PostgresEventStore({
      pool,
      connection: postgresConnectionConfig(database.connectionString, 'shop-test'),
      logger: silentLogger,
    });
    vault = new PersonalDataVault(pool);
    codec = new EventCodec(store, vault);
  });

  after(async () => {
    await store.close();
    await pool.end();
    await database.drop();
  });

  async function placeOrder(userId: string): Promise<string> {
    const orderId = randomUUID();
    // Just enough of an OrderPlaced to carry personal data, encoded as every command's events are.
    const data = await codec.encode({
      type: 'OrderPlaced',
      data: { orderId, userId, shippingAddress: address },
    });
    await store.append(
      `order-${orderId}`,
      [
        {
          id: randomUUID(),
          type: 'OrderPlaced',
          data,
          metadata: {
            actor: userId,
            correlationId: randomUUID(),
            causationId: randomUUID(),
            schemaVersion: 1,
          },
        },
      ],
      'no_stream',
    );
    return `order-${orderId}`;
  }

  describe('when an order is placed', () => {
    it('stores the shipping address encrypted, never in clear', async () => {
      const streamId = await placeOrder(`user-${randomUUID()}`);
      const raw = await pool.query<{ data: string }>(
        'SELECT data::text FROM es_events WHERE stream_id = $1',
        [streamId],
      );
      expect(raw.rows[0]?.data).to.include('$sealed').and.not.to.include('Test Recipient');
      expect(raw.rows[0]?.data).not.to.include('SW1Y');
    });

    it('reads it back in clear through the codec', async () => {
      const streamId = await placeOrder(`user-${randomUUID()}`);
      const [event] = await codec.readStream(streamId);
      expect(event?.data.shippingAddress).to.deep.equal(address);
    });
  });

  describe('when the customer is forgotten', () => {
    it('reads every one of their addresses as erased, leaves other customers alone, and still verifies', async () => {
      const forgotten = `user-${randomUUID()}`;
      const kept = `user-${randomUUID()}`;
      const streams = [await placeOrder(forgotten), await placeOrder(forgotten)];
      const other = await placeOrder(kept);
      await vault.forget(forgotten);
      for (const streamId of streams) {
        const [event] = await codec.readStream(streamId);
        expect(event?.data.shippingAddress).to.equal(ERASED);
        expect(event?.data.userId).to.equal(forgotten);
        expect(await store.verifyStream(streamId)).to.include({ verified: true });
      }
      const [untouched] = await codec.readStream(other);
      expect(untouched?.data.shippingAddress).to.deep.equal(address);
    });

    it('records their later events erased, never under a new key, and reads all of them as erased', async () => {
      const forgotten = `user-${randomUUID()}`;
      const before = await placeOrder(forgotten);
      await vault.forget(forgotten);
      const after = await placeOrder(forgotten);

      const [stored] = await store.readStream(after);
      expect(stored?.data.shippingAddress, 'nothing sealed for a forgotten customer').to.equal(ERASED);
      for (const streamId of [before, after]) {
        const [event] = await codec.readStream(streamId);
        expect(event?.data.shippingAddress).to.equal(ERASED);
      }
    });
  });

  describe('when a sealed value is moved to another customer', () => {
    it('refuses to open it', async () => {
      const [sealed] = await vault.sealAll(`user-${randomUUID()}`, ['secret']);
      const victim = `user-${randomUUID()}`;
      await vault.sealAll(victim, ['their own']);
      const moved = { $sealed: { ...(sealed as SealedValue).$sealed, owner: victim } };
      const error = await vault.openAll([moved]).catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(Error);
    });
  });

  describe('when a new customer’s first values are sealed concurrently', () => {
    it('creates one key, which opens every one of them', async () => {
      const owner = `user-${randomUUID()}`;
      const sealed = await Promise.all(
        Array.from({ length: 20 }, (_, index) => vault.sealAll(owner, [`value ${index}`, index])),
      );
      const opened = await vault.openAll(sealed.flat() as SealedValue[]);
      expect(opened).to.deep.equal(
        Array.from({ length: 20 }, (_, index) => [`value ${index}`, index]).flat(),
      );
    });
  });
});
