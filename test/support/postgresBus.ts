import type pg from 'pg';
import type { CommandBus } from '../../src/commands/commandHandler.js';
import { PostgresEventStore } from '../../src/infrastructure/eventstore/postgresEventStore.js';
import { EventCodec } from '../../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../../src/infrastructure/personalData/personalDataVault.js';
import { createPool, postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { createTestDatabase, silentLogger } from './testDatabase.js';

export interface PostgresBus {
  bus: CommandBus;
  store: PostgresEventStore;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** The command bus the shop runs on, over a fresh database of the test server. */
export async function openPostgresBus(): Promise<PostgresBus> {
  const database = await createTestDatabase();
  const opened = openBusOn(database.connectionString);
  return {
    ...opened,
    close: async () => {
      await opened.close();
      await database.drop();
    },
  };
}

/** A second writer on a running shop's database: what the saga or another instance would be. */
export function openBusOn(connectionString: string): PostgresBus {
  const database = { connectionString };
  const pool = createPool(database.connectionString, silentLogger);
  const store = new PostgresEventStore({
    pool,
    connection: postgresConnectionConfig(database.connectionString, 'shop-test-listener'),
    logger: silentLogger,
  });
  const bus = new EventCodec(store, new PersonalDataVault(pool)).commandBus();
  return {
    bus,
    store,
    pool,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}
