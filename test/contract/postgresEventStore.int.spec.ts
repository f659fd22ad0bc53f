import { createPool, postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { PostgresEventStore } from '../../src/infrastructure/eventstore/postgresEventStore.js';
import { createTestDatabase, silentLogger } from '../support/testDatabase.js';
import { eventStoreContract } from './eventStore.contract.js';

describe('PostgresEventStore', () => {
  eventStoreContract(async ({ upcast }) => {
    const database = await createTestDatabase();
    const pool = createPool(database.connectionString, silentLogger);
    const store = new PostgresEventStore({
      pool,
      connection: postgresConnectionConfig(database.connectionString, 'shop-test-listener'),
      logger: silentLogger,
      ...(upcast ? { upcast } : {}),
    });
    return {
      store,
      close: async () => {
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  });
});
