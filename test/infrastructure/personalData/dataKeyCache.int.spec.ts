import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import { ERASED } from '../../../src/domain/personalData.js';
import { DataKeyCache } from '../../../src/infrastructure/personalData/dataKeyCache.js';
import {
  PersonalDataVault,
  type SealedValue,
} from '../../../src/infrastructure/personalData/personalDataVault.js';
import { createPool, postgresConnectionConfig } from '../../../src/infrastructure/postgres/database.js';
import { postgresNotifications } from '../../../src/infrastructure/postgres/postgresNotifications.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../support/testDatabase.js';
import { waitFor } from '../../support/waitFor.js';

describe('Data keys kept in memory', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  /** A shop instance's vault, which keeps keys. */
  let shop: Instance;
  /** The vault of another process, which keeps none. */
  let elsewhere: PersonalDataVault;

  interface Instance {
    keys: DataKeyCache;
    vault: PersonalDataVault;
    /** The queries its vault has sent so far. */
    reads: () => number;
  }

  /** A vault whose keys listen as `listener`, its queries counted. */
  async function instance(listener: string, listenAgainMs: number): Promise<Instance> {
    let reads = 0;
    const counting = Object.create(pool) as pg.Pool;
    counting.query = ((...args: Parameters<pg.Pool['query']>) => {
      reads += 1;
      return (pool.query as (...a: unknown[]) => unknown)(...args);
    }) as pg.Pool['query'];
    const keys = new DataKeyCache(
      postgresNotifications(postgresConnectionConfig(database.connectionString, listener), silentLogger),
      silentLogger,
      listenAgainMs,
    );
    keys.start();
    await waitFor(
      async () => keys.hearing,
      10_000,
      () => 'not listening',
    );
    return { keys, vault: new PersonalDataVault(counting, keys), reads: () => reads };
  }

  const listenerPid = async (listener: string): Promise<number | undefined> =>
    (
      await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
        listener,
      ])
    ).rows[0]?.pid;

  const cutOff = (listener: string) =>
    pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      listener,
    ]);

  before(async () => {
    database = await createTestDatabase();
    pool = createPool(database.connectionString, silentLogger);
    elsewhere = new PersonalDataVault(pool);
    shop = await instance(`test-data-keys-${randomUUID()}`, 600_000);
  });

  after(async () => {
    await shop.keys.stop();
    await pool.end();
    await database.drop();
  });

  const sealedFor = async (owner: string, value: string): Promise<SealedValue> =>
    (await elsewhere.sealAll(owner, [value]))[0] as SealedValue;

  it('opens and seals with a key read once', async () => {
    const owner = `customer-${randomUUID()}`;
    const sealed = await sealedFor(owner, '12 St James Square');
    const before = shop.reads();
    expect(await shop.vault.openAll([sealed])).to.deep.equal(['12 St James Square']);
    expect(await shop.vault.openAll([sealed])).to.deep.equal(['12 St James Square']);
    const resealed = await shop.vault.sealAll(owner, ['Flat 2']);
    expect(await elsewhere.openAll(resealed as SealedValue[])).to.deep.equal(['Flat 2']);
    expect(shop.reads() - before).to.equal(1);
  });

  it('forgets a customer it was told to forget at once', async () => {
    const owner = `customer-${randomUUID()}`;
    const sealed = await sealedFor(owner, 'secret');
    expect(await shop.vault.openAll([sealed])).to.deep.equal(['secret']);
    await shop.vault.forget(owner);
    expect(await shop.vault.openAll([sealed])).to.deep.equal([ERASED]);
    expect(await shop.vault.sealAll(owner, ['later'])).to.deep.equal([ERASED]);
  });

  it('drops the key of a customer forgotten by another process as soon as it hears of it', async () => {
    const owner = `customer-${randomUUID()}`;
    const sealed = await sealedFor(owner, 'secret');
    expect(await shop.vault.openAll([sealed])).to.deep.equal(['secret']);
    await elsewhere.forget(owner);
    await waitFor(
      async () => (await shop.vault.openAll([sealed]))[0] === ERASED,
      5_000,
      () => 'the erasure made elsewhere was never heard',
    );
    expect(await shop.vault.sealAll(owner, ['later'])).to.deep.equal([ERASED]);
  });

  it('keeps no key while it cannot hear of erasures', async () => {
    const listener = `test-data-keys-${randomUUID()}`;
    const { keys: own, vault, reads } = await instance(listener, 600_000);
    try {
      const owner = `customer-${randomUUID()}`;
      const sealed = await sealedFor(owner, 'secret');
      expect(await vault.openAll([sealed])).to.deep.equal(['secret']);
      await cutOff(listener);
      await waitFor(
        async () => !own.hearing,
        5_000,
        () => 'still hearing',
      );
      // Forgotten while nobody listened: nothing announces it to this process, yet it shows at once.
      const before = reads();
      await elsewhere.forget(owner);
      expect(await vault.openAll([sealed])).to.deep.equal([ERASED]);
      const otherSealed = await sealedFor(`customer-${randomUUID()}`, 'read each time');
      await vault.openAll([otherSealed]);
      await vault.openAll([otherSealed]);
      expect(reads() - before, 'every opening read the table').to.equal(3);
    } finally {
      await own.stop();
    }
  });

  it('listens again after its connection ended, and keeps keys again once it hears', async () => {
    const listener = `test-data-keys-${randomUUID()}`;
    const { keys: own, vault, reads } = await instance(listener, 50);
    try {
      const first = await listenerPid(listener);
      await cutOff(listener);
      await waitFor(
        async () => {
          const now = await listenerPid(listener);
          return now !== undefined && now !== first && own.hearing;
        },
        5_000,
        () => 'never heard again',
      );
      const sealed = await sealedFor(`customer-${randomUUID()}`, 'kept again');
      const before = reads();
      await vault.openAll([sealed]);
      await vault.openAll([sealed]);
      expect(reads() - before).to.equal(1);
    } finally {
      await own.stop();
    }
  });
});
