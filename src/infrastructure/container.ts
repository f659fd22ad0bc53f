import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Container } from 'inversify';
import type { Express } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/eventStore.js';
import { createApp, type MetricsEndpoint } from '../api/app.js';
import { auditRoutes } from '../api/audit/audit.routes.js';
import { eventExportRoutes } from '../api/events/events.routes.js';
import { openApiDocument } from '../api/openapi/document.js';
import { openApiRoutes } from '../api/openapi/openapi.routes.js';
import type { Config } from './config.js';
import { createPool, isPostgresUnavailable, postgresConnectionConfig } from './postgres/database.js';
import { startEmbeddedPostgres } from './postgres/embeddedPostgres.js';
import { migrate } from './postgres/migrate.js';
import { PostgresEventStore } from './eventstore/postgresEventStore.js';
import { EventStoreDbEventStore, isEventStoreDbUnavailable } from './eventstore/eventStoreDbEventStore.js';
import { createMetrics } from './metrics.js';
import { createIdentity, type Identity } from './identity/identity.js';
import { PersonalDataVault } from './personalData/personalDataVault.js';
import { EventCodec } from './personalData/eventCodec.js';
import type { CommandBus } from '../commands/commandHandler.js';
import { authentication } from '../api/auth/authenticate.js';
import { devIssuerRoutes } from '../api/auth/devIssuer.routes.js';
import { catalogRoutes } from '../api/catalog/catalog.routes.js';
import { cartRoutes } from '../api/cart/cart.routes.js';
import { orderRoutes } from '../api/orders/orders.routes.js';
import { runCheckoutCompleter, SubscriptionHealth } from '../commands/order/checkoutCompleter.js';
import { PostgresCheckpoints } from './postgres/checkpoints.js';
import { connectRateLimitRedis } from './redis/rateLimitStore.js';

interface Database {
  connectionString: string;
  /** Stops the server when this process started it (the embedded mode). */
  stop(): Promise<void>;
}

/** API.md: a GET with X-Min-Position waits at most 5 s for the data it reads to catch up. */
const MIN_POSITION_WAIT_MS = 5_000;

const TOKENS = {
  Config: Symbol('Config'),
  Logger: Symbol('Logger'),
  Database: Symbol('Database'),
  Pool: Symbol('Pool'),
  EventStore: Symbol('EventStore'),
  Metrics: Symbol('Metrics'),
  Identity: Symbol('Identity'),
  EventCodec: Symbol('EventCodec'),
  CommandBus: Symbol('CommandBus'),
  Clock: Symbol('Clock'),
} as const;

type Clock = () => Date;

/** The one composition root: what runs in each profile is decided here, from the configuration. */
function createContainer(config: Config, logger: Logger): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<Config>(TOKENS.Config).toConstantValue(config);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(logger);
  container.bind<Database>(TOKENS.Database).toDynamicValue(async () => {
    const database: Database = config.DATABASE_URL
      ? { connectionString: config.DATABASE_URL, stop: () => Promise.resolve() }
      : await startEmbeddedPostgres(config.DATA_DIR, logger);
    await migrate(database.connectionString, logger);
    return database;
  });
  container.bind<pg.Pool>(TOKENS.Pool).toDynamicValue(async (context) => {
    const { connectionString } = await context.getAsync<Database>(TOKENS.Database);
    return createPool(connectionString, logger);
  });
  container.bind<EventStore>(TOKENS.EventStore).toDynamicValue(async (context) => {
    if (config.EVENT_STORE === 'eventstoredb' && config.EVENTSTORE_CONNECTION_STRING) {
      return new EventStoreDbEventStore({ connectionString: config.EVENTSTORE_CONNECTION_STRING });
    }
    const { connectionString } = await context.getAsync<Database>(TOKENS.Database);
    return new PostgresEventStore({
      pool: await context.getAsync<pg.Pool>(TOKENS.Pool),
      connection: postgresConnectionConfig(connectionString, 'shop-listener'),
      logger,
    });
  });
  container.bind<Identity>(TOKENS.Identity).toDynamicValue(() => createIdentity(config));
  container.bind<Clock>(TOKENS.Clock).toConstantValue(() => new Date());
  container.bind<EventCodec>(TOKENS.EventCodec).toDynamicValue(async (context) => {
    const vault = new PersonalDataVault(await context.getAsync<pg.Pool>(TOKENS.Pool));
    return new EventCodec(await context.getAsync<EventStore>(TOKENS.EventStore), vault);
  });
  container
    .bind<CommandBus>(TOKENS.CommandBus)
    .toDynamicValue(async (context) => (await context.getAsync<EventCodec>(TOKENS.EventCodec)).commandBus());
  container
    .bind<MetricsEndpoint>(TOKENS.Metrics)
    .toDynamicValue(async (context) => createMetrics(await context.getAsync<EventStore>(TOKENS.EventStore)));
  return container;
}

export interface RunningShop {
  port: number;
  /** The express application it serves: what its routes are. */
  app: Express;
  stop(): Promise<void>;
}

/** Starts every part and the HTTP server; `stop` ends them in reverse order, Postgres last. */
export async function startShop(config: Config, logger: Logger): Promise<RunningShop> {
  // Before anything else starts: a Redis that does not answer stops the start with nothing to undo.
  const limitsRedis = config.REDIS_URL ? await connectRateLimitRedis(config.REDIS_URL, logger) : undefined;
  const container = createContainer(config, logger);
  const database = await container.getAsync<Database>(TOKENS.Database);
  const pool = await container.getAsync<pg.Pool>(TOKENS.Pool);
  const eventStore = await container.getAsync<EventStore>(TOKENS.EventStore);
  const identity = await container.getAsync<Identity>(TOKENS.Identity);
  const bus = await container.getAsync<CommandBus>(TOKENS.CommandBus);
  const now = container.get<Clock>(TOKENS.Clock);
  const { requireRole } = authentication(identity);
  const completerHealth = new SubscriptionHealth();
  // One shop is one database: its instances share the budget kept under that database's name.
  const sharedLimits = limitsRedis?.store(
    `rate-limit:${new URL(database.connectionString).pathname.slice(1)}:`,
  );
  const codec = await container.getAsync<EventCodec>(TOKENS.EventCodec);
  const app = createApp({
    logger,
    isDependencyDown: (error) => isPostgresUnavailable(error) || isEventStoreDbUnavailable(error),
    consistency: { readPosition: () => eventStore.headPosition(), maxWaitMs: MIN_POSITION_WAIT_MS },
    rateLimit: {
      requestsPerMinute: config.RATE_LIMIT_PER_MINUTE,
      ...(sharedLimits ? { store: sharedLimits } : {}),
    },
    metrics: await container.getAsync<MetricsEndpoint>(TOKENS.Metrics),
    readinessChecks: [
      { name: 'eventStore', check: async () => void (await eventStore.headPosition()) },
      { name: 'readModels', check: async () => void (await pool.query('SELECT 1')) },
      { name: 'checkoutCompleter', check: () => completerHealth.check() },
    ],
    routers: [
      openApiRoutes(openApiDocument),
      ...(identity.devIssuer ? [devIssuerRoutes(identity.devIssuer)] : []),
      catalogRoutes({ bus, adminOnly: requireRole('admin'), now }),
      cartRoutes({ bus, customersOnly: requireRole('customer'), cartTtlMs: config.CART_TTL_MS, now }),
      orderRoutes({
        bus,
        customersOnly: requireRole('customer'),
        adminOnly: requireRole('admin'),
        customersAndAdmins: requireRole('customer', 'admin'),
        cartTtlMs: config.CART_TTL_MS,
        orderTimeoutMs: config.ORDER_TIMEOUT_MS,
        now,
      }),
      eventExportRoutes({
        readAll: (options) => codec.readAll(options),
        analystsAndAdmins: requireRole('analyst', 'admin'),
      }),
      auditRoutes({
        readStream: (streamId) => codec.readStream(streamId),
        verifyStream: (streamId) => eventStore.verifyStream(streamId),
        auditorsAndAdmins: requireRole('auditor', 'admin'),
      }),
    ],
  });
  const background = new AbortController();
  const completer = runCheckoutCompleter({
    bus,
    subscribe: (options) => codec.subscribeToAll(options),
    checkpoints: new PostgresCheckpoints(pool),
    orderTimeoutMs: config.ORDER_TIMEOUT_MS,
    logger,
    signal: background.signal,
    health: completerHealth,
  });
  const server: Server = app.listen(config.PORT, '0.0.0.0');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'shop listening');
  return {
    port,
    app,
    stop: async () => {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      background.abort();
      await completer;
      await limitsRedis?.close();
      await eventStore.close();
      await pool.end();
      await database.stop();
      logger.info('shop stopped');
    },
  };
}
