import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Container } from 'inversify';
import type { Express } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/eventStore.js';
import { seenProductPosition } from '../commands/catalog/product.js';
import { acceptedUuid } from '../api/pathIds.js';
import { createApp } from '../api/app.js';
import { answerParserErrors } from '../api/http.js';
import { auditRoutes } from '../api/audit/audit.routes.js';
import { eventExportRoutes } from '../api/events/events.routes.js';
import { openApiDocument } from '../api/openapi/document.js';
import { openApiRoutes } from '../api/openapi/openapi.routes.js';
import { type Config, developmentIssuerExposure } from './config.js';
import {
  createPool,
  isPostgresUnavailable,
  postgresConnectionConfig,
  sqlQueryOn,
} from './postgres/database.js';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './postgres/embeddedPostgres.js';
import { migrate } from './postgres/migrate.js';
import { PostgresEventStore } from './eventstore/postgresEventStore.js';
import { EventStoreDbEventStore, isEventStoreDbUnavailable } from './eventstore/eventStoreDbEventStore.js';
import { Registry } from 'prom-client';
import { checkoutMetrics, createMetrics } from './metrics.js';
import { createIdentity, type Identity } from './identity/identity.js';
import { CATALOG_PROJECTOR } from '../projections/catalog/catalogProjector.js';
import { type Projection, PROJECTIONS } from '../projections/projections.js';
import {
  outdatedProjections,
  RebuildInProgress,
  type RebuildOptions,
  type RebuildProgress,
  rebuildProjections,
} from './postgres/projectionRebuild.js';
import { ORDERS_PROJECTOR } from '../projections/orders/ordersProjector.js';
import { SALES_PROJECTOR } from '../projections/sales/salesProjector.js';
import { analyticsRoutes } from '../api/analytics/analytics.routes.js';
import { DataKeyCache } from './personalData/dataKeyCache.js';
import { CheckpointSignals } from './postgres/checkpointSignals.js';
import { keptAnswers } from './postgres/readModelAnswers.js';
import { PersonalDataVault } from './personalData/personalDataVault.js';
import { EventCodec } from './personalData/eventCodec.js';
import { eventStreams, type EventStreams } from '../commands/eventStreams.js';
import type { CommandEnvironment } from '../commands/commandEnvironment.js';
import { isRefusal } from '../commands/refusals.js';
import { authentication } from '../api/auth/authenticate.js';
import { devIssuerRoutes } from '../api/auth/devIssuer.routes.js';
import { catalogRoutes } from '../api/catalog/catalog.routes.js';
import { cartRoutes } from '../api/cart/cart.routes.js';
import { orderRoutes } from '../api/orders/orders.routes.js';
import { checkoutCompleter } from '../commands/order/checkoutCompleter.js';
import { checkoutSaga } from '../commands/checkout/checkoutSaga.js';
import { DeadlineWorker } from '../commands/checkout/deadlineWorker.js';
import { deadlineCounts } from '../commands/checkout/checkoutTables.js';
import type { PaymentProvider } from '../commands/payment/paymentProvider.js';
import { PaymentSimulator } from './payments/paymentSimulator.js';
import { postgresNotifications } from './postgres/postgresNotifications.js';
import type { Consumer, SqlQuery } from '../projections/consumer.js';
import { type EventSource, eventSourceOf, SubscriptionRunner } from '../projections/subscriptionRunner.js';
import type { ConsumerStore } from '../projections/consumerStore.js';
import { PostgresConsumerStore } from './postgres/postgresConsumerStore.js';
import { type BackgroundWorker, readinessOf, stopInReverse } from './workers.js';
import { connectRateLimitRedis } from './redis/rateLimitStore.js';

interface Database {
  connectionString: string;
  /** Stops the server when this process started it (the embedded mode). */
  stop(): Promise<void>;
}

/** API.md: a GET with X-Min-Position waits at most 5 s for the data it reads to catch up. */
const MIN_POSITION_WAIT_MS = 5_000;

/** The GETs answered from a read model, with the projector that keeps it; the others fold streams. */
const READ_MODEL_OF_PATH = new Map([
  ['/api/v1/products', CATALOG_PROJECTOR],
  ['/api/v1/categories', CATALOG_PROJECTOR],
  ['/api/v1/orders', ORDERS_PROJECTOR],
  ['/api/v1/analytics/sales', SALES_PROJECTOR],
]);
/** A product's own GET, answered from the catalog's read model too. */
const PRODUCT_PATH = /^\/api\/v1\/products\/([^/]+)$/;

const TOKENS = {
  Config: Symbol('Config'),
  Logger: Symbol('Logger'),
  Database: Symbol('Database'),
  Pool: Symbol('Pool'),
  EventStore: Symbol('EventStore'),
  Identity: Symbol('Identity'),
  EventCodec: Symbol('EventCodec'),
  EventStreams: Symbol('EventStreams'),
  CommandEnvironment: Symbol('CommandEnvironment'),
  ConsumerStore: Symbol('ConsumerStore'),
  PaymentProvider: Symbol('PaymentProvider'),
  DataKeyCache: Symbol('DataKeyCache'),
  Clock: Symbol('Clock'),
} as const;

type Clock = () => Date;

/** The one composition root: what runs in each profile is decided here, from the configuration. */
function createContainer(config: Config, logger: Logger, usage: 'server' | 'tool' = 'server'): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<Config>(TOKENS.Config).toConstantValue(config);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(logger);
  container.bind<Database>(TOKENS.Database).toDynamicValue(async () => {
    // A command-line tool works on the PostgreSQL of the shop running on DATA_DIR, if one runs.
    const shared =
      config.DATABASE_URL ?? (usage === 'tool' ? await runningEmbeddedPostgres(config.DATA_DIR) : undefined);
    const database: Database = shared
      ? { connectionString: shared, stop: () => Promise.resolve() }
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
  // Keys are kept only while it runs, which the server's start sees to; a tool reads every key.
  container.bind<DataKeyCache>(TOKENS.DataKeyCache).toDynamicValue(async (context) => {
    const { connectionString } = await context.getAsync<Database>(TOKENS.Database);
    return new DataKeyCache(
      postgresNotifications(postgresConnectionConfig(connectionString, 'shop-data-keys'), logger),
      logger,
    );
  });
  container.bind<EventCodec>(TOKENS.EventCodec).toDynamicValue(async (context) => {
    const vault = new PersonalDataVault(
      await context.getAsync<pg.Pool>(TOKENS.Pool),
      await context.getAsync<DataKeyCache>(TOKENS.DataKeyCache),
    );
    return new EventCodec(await context.getAsync<EventStore>(TOKENS.EventStore), vault);
  });
  container
    .bind<EventStreams>(TOKENS.EventStreams)
    .toDynamicValue(async (context) =>
      eventStreams(
        await context.getAsync<EventStore>(TOKENS.EventStore),
        await context.getAsync<EventCodec>(TOKENS.EventCodec),
      ),
    );
  container.bind<CommandEnvironment>(TOKENS.CommandEnvironment).toDynamicValue(async (context) => ({
    streams: await context.getAsync<EventStreams>(TOKENS.EventStreams),
    now: context.get<Clock>(TOKENS.Clock),
    cartTtlMs: config.CART_TTL_MS,
    orderTimeoutMs: config.ORDER_TIMEOUT_MS,
  }));
  container.bind<PostgresConsumerStore>(TOKENS.ConsumerStore).toDynamicValue(async (context) => {
    const { connectionString } = await context.getAsync<Database>(TOKENS.Database);
    return new PostgresConsumerStore({
      pool: await context.getAsync<pg.Pool>(TOKENS.Pool),
      lockConnection: postgresConnectionConfig(
        connectionString,
        `shop-consumer ${hostname()} ${process.pid}`,
      ),
      logger,
    });
  });
  container
    .bind<PaymentProvider>(TOKENS.PaymentProvider)
    .toDynamicValue(async (context) => new PaymentSimulator(await context.getAsync<pg.Pool>(TOKENS.Pool)));
  return container;
}

/** API.md: the checkout retries a charge the provider erred on three times. */
const PAYMENT_RETRIES = 3;

/** The shop's core without HTTP: what the command line works with, and what the server serves. */
export interface ShopCore {
  eventStore: EventStore;
  consumerStore: ConsumerStore;
  /** What consumers read: the store's events, with personal data opened. */
  eventSource: EventSource;
  /** Every consumer of the event stream, in the order they start. */
  consumers: readonly Consumer[];
  runnerFor(consumer: Consumer): SubscriptionRunner;
  /** Fires the checkout's deadlines; one instance of the shop at a time does. */
  deadlineWorker: DeadlineWorker;
  /** Where the parts of the core register their metrics. */
  registry: Registry;
  /** Rebuilds read models into copies of their tables and swaps them in (`npm run replay`). */
  rebuild(
    projections: readonly Projection[],
    options?: Pick<RebuildOptions, 'onProgress' | 'signal'>,
  ): Promise<RebuildProgress>;
  /** How many events the store holds, where it can tell at the cost of one query; else undefined. */
  eventCount(): Promise<number | undefined>;
}

async function shopCore(container: Container, logger: Logger): Promise<ShopCore> {
  const eventStore = await container.getAsync<EventStore>(TOKENS.EventStore);
  const codec = await container.getAsync<EventCodec>(TOKENS.EventCodec);
  const env = await container.getAsync<CommandEnvironment>(TOKENS.CommandEnvironment);
  const consumerStore = await container.getAsync<PostgresConsumerStore>(TOKENS.ConsumerStore);
  const eventSource = eventSourceOf(eventStore, (events) => codec.revealAll(events));
  const config = container.get<Config>(TOKENS.Config);
  const { connectionString } = await container.getAsync<Database>(TOKENS.Database);
  const pool = await container.getAsync<pg.Pool>(TOKENS.Pool);
  const registry = new Registry();
  const metrics = checkoutMetrics(registry);
  const settings = { paymentRetryDelayMs: config.PAYMENT_RETRY_DELAY_MS, paymentRetries: PAYMENT_RETRIES };
  return {
    eventStore,
    consumerStore,
    eventSource,
    registry,
    // A new consumer of the event stream is one more line here.
    consumers: [
      checkoutCompleter(env),
      checkoutSaga(env, { settings, metrics: metrics.checkout }),
      ...PROJECTIONS.map((projection) => projection.projector(projection.schema)),
    ],
    deadlineWorker: new DeadlineWorker(
      { env, provider: await container.getAsync<PaymentProvider>(TOKENS.PaymentProvider) },
      sqlQueryOn(pool),
      consumerStore,
      postgresNotifications(postgresConnectionConfig(connectionString, 'shop-deadlines'), logger),
      logger,
      metrics.deadlines,
    ),
    rebuild: (projections, options = {}) =>
      rebuildProjections({ pool, source: eventSource, projections, ...options }),
    eventCount: async () =>
      eventStore instanceof PostgresEventStore
        ? Number((await pool.query<{ count: string }>('SELECT count(*) FROM es_events')).rows[0]?.count)
        : undefined,
    runnerFor: (consumer) =>
      new SubscriptionRunner(
        consumer,
        consumerStore,
        eventSource,
        { isDependencyDown, isPermanent: isRefusal },
        logger,
      ),
  };
}

/**
 * Rebuilds, in the background, the read models an older version of their projector built: the old
 * tables serve, their projectors running, until the rebuilt ones are swapped in.
 */
async function rebuildOutdated(
  core: ShopCore,
  pool: pg.Pool,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  try {
    const outdated = await outdatedProjections(pool, PROJECTIONS);
    if (outdated.length === 0) return;
    const names = outdated.map((projection) => projection.name);
    logger.info(
      { projections: names },
      'rebuilding read models an older projector built; the old ones serve meanwhile',
    );
    const done = await core.rebuild(outdated, { signal });
    logger.info({ projections: names, events: done.events, position: done.position }, 'read models rebuilt');
  } catch (error) {
    if (signal.aborted)
      logger.info('rebuild of read models stopped with the shop; the next start begins it again');
    else if (error instanceof RebuildInProgress) logger.info('another instance rebuilds the read models');
    else logger.error({ err: error }, 'read models could not be rebuilt; the old ones still serve');
  }
}

const isDependencyDown = (error: unknown): boolean =>
  isPostgresUnavailable(error) || isEventStoreDbUnavailable(error);

/** Opens the shop's database and event store for a command-line tool; `close` ends both. */
export async function openShopCore(
  config: Config,
  logger: Logger,
): Promise<ShopCore & { close(): Promise<void> }> {
  const container = createContainer(config, logger, 'tool');
  const database = await container.getAsync<Database>(TOKENS.Database);
  const pool = await container.getAsync<pg.Pool>(TOKENS.Pool);
  const core = await shopCore(container, logger);
  return {
    ...core,
    close: async () => {
      await core.eventStore.close();
      await pool.end();
      await database.stop();
    },
  };
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
  const env = await container.getAsync<CommandEnvironment>(TOKENS.CommandEnvironment);
  const core = await shopCore(container, logger);
  const runners = core.consumers.map((consumer) => core.runnerFor(consumer));
  const workers: BackgroundWorker[] = [...runners, core.deadlineWorker];
  // The two listeners start before the workers and stop after them. Neither is part of readiness:
  // while the keys cannot hear of erasures they keep none, slower but correct; while the
  // checkpoints cannot hear, a waiting GET looks again every second.
  const dataKeys = await container.getAsync<DataKeyCache>(TOKENS.DataKeyCache);
  const checkpoints = new CheckpointSignals(
    postgresNotifications(postgresConnectionConfig(database.connectionString, 'shop-checkpoints'), logger),
    logger,
  );
  const { authenticated, requireRole } = authentication(identity);
  // One shop is one database: its instances share the budget kept under that database's name.
  const sharedLimits = limitsRedis?.store(
    `rate-limit:${new URL(database.connectionString).pathname.slice(1)}:`,
  );
  const codec = await container.getAsync<EventCodec>(TOKENS.EventCodec);
  const readModelOf = (projector: string): SqlQuery =>
    keptAnswers(sqlQueryOn(pool), () => checkpoints.stamp(projector));
  const app = createApp({
    logger,
    isDependencyDown,
    consistency: {
      sourceOf: (path) => {
        const productPath = PRODUCT_PATH.exec(path);
        const projector = productPath ? CATALOG_PROJECTOR : READ_MODEL_OF_PATH.get(path);
        // As the route takes it: an id in capitals names the same product.
        const productId = acceptedUuid(productPath?.[1]);
        return projector === undefined
          ? {
              position: async (atLeast) =>
                (eventStore instanceof PostgresEventStore
                  ? eventStore.settledPosition(atLeast)
                  : undefined) ?? eventStore.headPosition(),
            }
          : {
              position: (atLeast) =>
                checkpoints.position(projector, () => core.consumerStore.checkpoint(projector), atLeast),
              untilReached: async (position, timeoutMs) => {
                await checkpoints.reached(projector, position, timeoutMs);
              },
              ...(productId === undefined ? {} : { seen: seenProductPosition(env, productId) }),
            };
      },
      maxWaitMs: MIN_POSITION_WAIT_MS,
    },
    rateLimit: {
      requestsPerMinute: config.RATE_LIMIT_PER_MINUTE,
      authenticate: authenticated,
      ...(sharedLimits ? { store: sharedLimits } : {}),
    },
    metrics: createMetrics(core.registry, eventStore, runners, () => deadlineCounts(sqlQueryOn(pool))),
    readinessChecks: [
      { name: 'eventStore', check: async () => void (await eventStore.headPosition()) },
      { name: 'readModels', check: async () => void (await pool.query('SELECT 1')) },
      ...workers.map(readinessOf),
    ],
    routers: [
      openApiRoutes(openApiDocument),
      ...(identity.devIssuer ? [devIssuerRoutes(identity.devIssuer)] : []),
      catalogRoutes({ env, readModel: readModelOf(CATALOG_PROJECTOR), adminOnly: requireRole('admin') }),
      cartRoutes({ env, customersOnly: requireRole('customer') }),
      orderRoutes({
        env,
        readModel: readModelOf(ORDERS_PROJECTOR),
        openValues: (values) => codec.openValues(values),
        customersOnly: requireRole('customer'),
        adminOnly: requireRole('admin'),
        customersAndAdmins: requireRole('customer', 'admin'),
      }),
      eventExportRoutes({
        readAll: (options) => codec.readAll(options),
        analystsAndAdmins: requireRole('analyst', 'admin'),
      }),
      analyticsRoutes({
        readModel: readModelOf(SALES_PROJECTOR),
        analystsAndAdmins: requireRole('analyst', 'admin'),
      }),
      auditRoutes({
        readStream: (streamId) => codec.readStream(streamId),
        verifyStream: (streamId) => eventStore.verifyStream(streamId),
        auditorsAndAdmins: requireRole('auditor', 'admin'),
      }),
    ],
  });
  const rebuilding = new AbortController();
  let rebuilt: Promise<void> = Promise.resolve();
  const closeAll = async (): Promise<void> => {
    try {
      rebuilding.abort();
      await rebuilt;
      await stopInReverse(workers);
      await Promise.all([dataKeys.stop(), checkpoints.stop()]);
    } finally {
      await limitsRedis?.close();
      await eventStore.close();
      await pool.end();
      await database.stop();
    }
  };
  const exposure = developmentIssuerExposure(config);
  if (exposure) logger.warn({ host: config.HOST }, exposure);
  const server: Server = app.listen(config.PORT, config.HOST);
  answerParserErrors(server);
  try {
    await once(server, 'listening');
  } catch (error) {
    // The port is taken, say: what was opened for the shop is closed again, its PostgreSQL too.
    await closeAll();
    throw error;
  }
  dataKeys.start();
  checkpoints.start();
  for (const worker of workers) worker.start();
  rebuilt = rebuildOutdated(core, pool, logger, rebuilding.signal);
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'shop listening');
  return {
    port,
    app,
    stop: async () => {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeAll();
      logger.info('shop stopped');
    },
  };
}
