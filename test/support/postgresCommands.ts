import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { orders } from '../../src/commands/aggregates.js';
import { handle } from '../../src/commands/commandHandler.js';
import type { CommandEnvironment } from '../../src/commands/commandEnvironment.js';
import { eventStreams } from '../../src/commands/eventStreams.js';
import { PostgresEventStore } from '../../src/infrastructure/eventstore/postgresEventStore.js';
import { EventCodec } from '../../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../../src/infrastructure/personalData/personalDataVault.js';
import { createPool, postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { createTestDatabase, silentLogger } from './testDatabase.js';
import { TEST_ADDRESS } from './shop.js';

export interface PostgresCommands {
  /** What the shop's command modules work with, as the shop wires it. */
  env: CommandEnvironment;
  store: PostgresEventStore;
  codec: EventCodec;
  pool: pg.Pool;
  connectionString: string;
  close(): Promise<void>;
}

export const TEST_SETTINGS = { cartTtlMs: 30 * 24 * 3600 * 1000, orderTimeoutMs: 30 * 60 * 1000 };

/** The command modules over a fresh database of the test server. */
export async function openPostgresCommands(): Promise<PostgresCommands> {
  const database = await createTestDatabase();
  const opened = openCommandsOn(database.connectionString);
  return {
    ...opened,
    close: async () => {
      await opened.close();
      await database.drop();
    },
  };
}

/** A second writer on a running shop's database: what the saga or another instance would be. */
export function openCommandsOn(connectionString: string): PostgresCommands {
  const pool = createPool(connectionString, silentLogger);
  const store = new PostgresEventStore({
    pool,
    connection: postgresConnectionConfig(connectionString, 'shop-test-listener'),
    logger: silentLogger,
  });
  const codec = new EventCodec(store, new PersonalDataVault(pool));
  return {
    env: { streams: eventStreams(store, codec), now: () => new Date(), ...TEST_SETTINGS },
    store,
    codec,
    pool,
    connectionString,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}

export interface OrderToPlace {
  lines: readonly { productId: string; quantity: number }[];
  token: string;
  placedAt?: Date;
  /** How long after its placement the order expires. */
  timeoutMs?: number;
}

/** Appends an order placed by a fresh customer, as the placement would, with kettles at 25.00. */
export async function placeOrderOf(env: CommandEnvironment, order: OrderToPlace): Promise<string> {
  const orderId = randomUUID();
  const placedAt = order.placedAt ?? new Date();
  await handle(env.streams, orders, {
    id: orderId,
    command: {
      type: 'PlaceOrder',
      orderId,
      userId: `customer-${randomUUID()}`,
      items: order.lines.map((line) => ({ ...line, productName: 'Kettle', unitPriceCents: 2500 })),
      shippingAddress: TEST_ADDRESS,
      paymentMethod: { type: 'card', token: order.token },
      idempotencyKey: randomUUID(),
      requestHash: randomUUID(),
      now: placedAt.toISOString(),
      expiresAt: new Date(placedAt.getTime() + (order.timeoutMs ?? 600_000)).toISOString(),
    },
    context: { actor: 'system:test', correlationId: randomUUID(), causationId: randomUUID() },
  });
  return orderId;
}
