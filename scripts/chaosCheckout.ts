import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { commandLineArguments, parsedOrUsage, UsageError } from './commandLine.js';
import {
  CHECK_NAMES,
  type CheckResult,
  checkEventStore,
  historyOf,
  type InventoryView,
  type OrderView,
  type Outcomes,
  type PlacedOrder,
  unsettled,
} from './chaosChecks.js';
import { ChaosClient, noRetries, totalRetries, UnexpectedAnswer } from './chaosHttp.js';
import { ShopProcess, ShopWouldNotStart } from './chaosShopProcess.js';

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const ORDER_TIMEOUT_MS = 60_000;
const PAYMENT_RETRY_DELAY_MS = 100;
const KILL_EVERY_MS = { min: 2_000, max: 5_000 };
/** After the last order is placed: long enough for an order stuck in the saga to expire, and then some. */
const SETTLE_TIMEOUT_MS = ORDER_TIMEOUT_MS + 120_000;
const TOKENS = [
  { token: 'tok_visa', share: 0.7 },
  { token: 'tok_declined', share: 0.1 },
  { token: 'tok_error', share: 0.1 },
  { token: 'tok_slow', share: 0.1 },
];
const CANCEL_SHARE = 0.15;
const CANCEL_SOON_MS = 300;
const CANCEL_WITHIN_MS = 5_000;
const ADDRESS = {
  name: 'Chaos Customer',
  line1: '1 Main St',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};

const USAGE = `usage: npm run -s chaos:checkout -- [--orders <n>] [--customers <n>] [--products <n>] [--seed <n>]
         [--server-url <postgres url> [--keep-database] | --database-url <postgres url>] [--log-level <level>]
Places <n> orders (default 1000) of random carts, from many customers at once, through a shop started
with npm start and killed with SIGKILL every 2 to 5 s of serving, then started again on the same
database and port; requests the kills cut off are sent again, orders with the same Idempotency-Key.
Once every order is placed the shop is left running until every order has ended, then the event
store is checked: one outcome per order, no payment captured twice, no cancelled order left charged,
stock that balances and was never negative. Exits 1 and lists the violations if any, 0 otherwise.
  --orders <n>         orders to place, 1 to 100000 (default 1000)
  --customers <n>      customers placing them at once, 1 to 500 (default 50, at most one per order)
  --products <n>       products, each with limited stock, 2 to 50 (default 6)
  --seed <n>           makes the carts, tokens and cancellations of a run the same again
  --server-url <url>   the PostgreSQL to create a fresh database on (default ${DEFAULT_SERVER_URL});
                       it is dropped after a run that passes, with the shop's log, unless --keep-database
  --database-url <url> an empty database to run on instead; kept, and the shop's log too
  --log-level <level>  the shop's LOG_LEVEL, for its log (default warn)`;

interface Request {
  orders: number;
  customers: number;
  products: number;
  seed: number;
  serverUrl: string;
  databaseUrl: string | undefined;
  keepDatabase: boolean;
  logLevel: string;
}

function wholeNumber(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(value: string | undefined): string {
  if (value === undefined) return 'warn';
  if (!LOG_LEVELS.includes(value))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

function postgresUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${name} must be a postgres:// URL, not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError(`--${name} must be a postgres:// URL, not ${JSON.stringify(value)}`);
  }
  return url.href;
}

function parse(): Request | 'help' {
  const { values } = commandLineArguments({
    options: {
      orders: { type: 'string' },
      customers: { type: 'string' },
      products: { type: 'string' },
      seed: { type: 'string' },
      'server-url': { type: 'string' },
      'database-url': { type: 'string' },
      'keep-database': { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const orders = wholeNumber('orders', values.orders, 1, 100_000, 1000);
  if (values['database-url'] !== undefined && values['server-url'] !== undefined) {
    throw new UsageError('--database-url and --server-url exclude each other');
  }
  if (values['database-url'] !== undefined && values['keep-database']) {
    throw new UsageError('--keep-database goes with --server-url: a --database-url is always kept');
  }
  return {
    orders,
    customers: Math.min(orders, wholeNumber('customers', values.customers, 1, 500, 50)),
    products: wholeNumber('products', values.products, 2, 50, 6),
    seed: wholeNumber('seed', values.seed, 0, 2 ** 32 - 1, randomBytes(4).readUInt32BE()),
    serverUrl: postgresUrl('server-url', values['server-url'] ?? DEFAULT_SERVER_URL),
    databaseUrl:
      values['database-url'] === undefined ? undefined : postgresUrl('database-url', values['database-url']),
    keepDatabase: values['keep-database'] ?? false,
    logLevel: logLevel(values['log-level']),
  };
}

/** mulberry32: small, seedable, good enough to pick carts. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface Product {
  id: string;
  priceCents: number;
  stock: number;
}

interface OrderPlan {
  number: number;
  lines: { productIndex: number; quantity: number }[];
  token: string;
  cancelAfterMs: number | undefined;
  thinkMs: number;
}

function plans(request: Request, random: () => number): { stock: number[]; orders: OrderPlan[] } {
  const orders: OrderPlan[] = [];
  for (let number = 0; number < request.orders; number += 1) {
    const indexes = Array.from({ length: request.products }, (_, index) => index);
    for (let index = indexes.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [indexes[index], indexes[other]] = [indexes[other]!, indexes[index]!];
    }
    const lineCount = 1 + Math.floor(random() * 3);
    const lines = indexes
      .slice(0, lineCount)
      .map((productIndex) => ({ productIndex, quantity: 1 + Math.floor(random() * 4) }));
    let pick = random();
    const token = TOKENS.find(({ share }) => (pick -= share) < 0)?.token ?? 'tok_visa';
    // Half of the cancellations come at once, while the checkout is under way; the rest at any
    // moment of the next few seconds, after it ended as often as not.
    const cancelAfterMs =
      random() < CANCEL_SHARE
        ? Math.floor(random() * (random() < 0.5 ? CANCEL_SOON_MS : CANCEL_WITHIN_MS))
        : undefined;
    orders.push({ number, lines, token, cancelAfterMs, thinkMs: Math.floor(random() * 200) });
  }
  // From two fifths of what the carts ask of a product to a little more than all of it: some run out
  // early, some late, one never.
  const stock = Array.from({ length: request.products }, (_, productIndex) => {
    const demand = orders
      .flatMap((order) => order.lines)
      .filter((line) => line.productIndex === productIndex)
      .reduce((total, line) => total + line.quantity, 0);
    const share = 0.4 + (0.7 * productIndex) / Math.max(1, request.products - 1);
    return Math.max(1, Math.round(demand * share));
  });
  return { stock, orders };
}

/** A database to run on: a fresh one on the server, or the empty one given. */
async function openDatabase(
  request: Request,
  runId: string,
): Promise<{ url: string; created: boolean; drop: () => Promise<void> }> {
  if (request.databaseUrl) {
    const client = new pg.Client({ connectionString: request.databaseUrl });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ found: boolean }>(
        "SELECT to_regclass('es_events') IS NOT NULL AS found",
      );
      const { rows } = tables[0]?.found
        ? await client.query<{ events: string }>('SELECT count(*) AS events FROM es_events')
        : { rows: [] };
      const events = Number(rows[0]?.events ?? 0);
      if (events > 0)
        throw new UsageError(`--database-url holds ${events} events already: give an empty database`);
    } finally {
      await client.end();
    }
    return { url: request.databaseUrl, created: false, drop: () => Promise.resolve() };
  }
  const name = `chaos_checkout_${runId}`;
  const admin = new pg.Client({ connectionString: request.serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(request.serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    created: true,
    drop: async () => {
      const client = new pg.Client({ connectionString: request.serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Kills the shop every 2 to 5 s of serving and starts it again, until told to stop (and at least
 * once, so that even a small run goes through a crash); then leaves it running and ready.
 */
class Chaos {
  private stopRequested = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<void>;
  /** Rejects when the shop would not start again: the run cannot go on. */
  readonly failed: Promise<never>;
  /** Per stretch of serving that ended in a kill: whether the saga's checkpoint moved during it. */
  readonly sagaMoved: boolean[] = [];

  constructor(
    private readonly shop: ShopProcess,
    private readonly random: () => number,
    private readonly sagaCheckpoint: () => Promise<string | undefined>,
  ) {
    this.done = this.run();
    this.failed = this.done.then(() => new Promise<never>(() => undefined));
    // Failures are reported by stop() and `failed`; until then nothing may go unhandled.
    this.done.catch(() => undefined);
    this.failed.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    for (;;) {
      await startPersistently(this.shop);
      if (this.stopRequested && this.shop.kills > 0) return;
      const before = await this.sagaCheckpoint();
      const interval = KILL_EVERY_MS.min + this.random() * (KILL_EVERY_MS.max - KILL_EVERY_MS.min);
      await Promise.race([
        sleep(interval),
        this.shop.whenExited(),
        new Promise<void>((resolve) => (this.wake = resolve)),
      ]);
      this.wake = undefined;
      if (!this.shop.running) continue;
      if (this.stopRequested && this.shop.kills > 0) return;
      const after = await this.sagaCheckpoint();
      this.sagaMoved.push(after !== before);
      await this.shop.kill();
    }
  }
}

/** A start that fails is tried again; five in a row end the run. */
async function startPersistently(shop: ShopProcess): Promise<void> {
  for (let failures = 0; ; failures += 1) {
    try {
      await shop.start();
      return;
    } catch (error) {
      if (!(error instanceof ShopWouldNotStart) || failures >= 4) throw error;
      await sleep(1_000);
    }
  }
}

interface RunState {
  client: ChaosClient;
  products: Product[];
  placed: Map<string, PlacedOrder>;
  /** Requests the run could not get through, or answers it did not expect. */
  failures: string[];
  cancellations: Promise<void>[];
  tokens: Map<string, string>;
}

async function issueToken(run: RunState, sub: string, roles: string[]): Promise<string> {
  const { body } = await run.client.send('POST', '/dev/token', { body: { sub, roles } }, [200]);
  const token = (body as { access_token: string }).access_token;
  run.tokens.set(sub, token);
  return token;
}

/** A customer's call: a token that expired (401) is issued again, once. */
async function asCustomer(
  run: RunState,
  sub: string,
  method: string,
  pathname: string,
  options: { body?: unknown; headers?: Record<string, string> },
  expected: readonly number[],
) {
  const token = run.tokens.get(sub) ?? (await issueToken(run, sub, ['customer']));
  const answer = await run.client.send(method, pathname, { ...options, token }, [...expected, 401]);
  if (answer.status !== 401) return answer;
  const fresh = await issueToken(run, sub, ['customer']);
  return run.client.send(method, pathname, { ...options, token: fresh }, expected);
}

async function placeOrder(run: RunState, runId: string, sub: string, plan: OrderPlan): Promise<void> {
  await asCustomer(run, sub, 'DELETE', '/api/v1/cart', {}, [204]);
  const lines = plan.lines.map(({ productIndex, quantity }) => ({
    productId: run.products[productIndex]!.id,
    quantity,
  }));
  for (const line of lines) {
    const added = await asCustomer(run, sub, 'POST', '/api/v1/cart/items', { body: line }, [200]);
    // Added again when the answer to the first attempt was lost: the quantity is set to what it should be.
    if (added.attempts > 1) {
      await asCustomer(
        run,
        sub,
        'PUT',
        `/api/v1/cart/items/${line.productId}`,
        { body: { quantity: line.quantity } },
        [200],
      );
    }
  }
  const { body } = await asCustomer(
    run,
    sub,
    'POST',
    '/api/v1/orders',
    {
      headers: { 'idempotency-key': `chaos-${runId}-${plan.number}` },
      body: { shippingAddress: ADDRESS, paymentMethod: { type: 'card', token: plan.token } },
    },
    [202],
  );
  const { orderId } = body as { orderId: string };
  const order: PlacedOrder = { orderId, customer: sub, token: plan.token, lines, cancel: 'none' };
  run.placed.set(orderId, order);
  if (plan.cancelAfterMs !== undefined) {
    const after = plan.cancelAfterMs;
    run.cancellations.push(
      (async () => {
        await sleep(after);
        const { status } = await asCustomer(
          run,
          sub,
          'POST',
          `/api/v1/orders/${orderId}/cancel`,
          {},
          [202, 409],
        );
        order.cancel = status === 202 ? 'accepted' : 'refused';
      })().catch((error: unknown) => {
        run.failures.push(`cancelling order ${orderId}: ${describe(error)}`);
      }),
    );
  }
}

async function customers(run: RunState, runId: string, request: Request, orders: OrderPlan[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: request.customers }, async (_, index) => {
      const sub = `chaos-${runId}-customer-${index}`;
      for (let plan = orders[next++]; plan; plan = orders[next++]) {
        try {
          await placeOrder(run, runId, sub, plan);
        } catch (error) {
          if (!(error instanceof UnexpectedAnswer)) throw error;
          run.failures.push(`order ${plan.number} of ${sub}: ${error.message}`);
        }
        await sleep(plan.thinkMs);
      }
    }),
  );
}

async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function outcomeTable(outcomes: Outcomes): string[] {
  const tokens = [...outcomes.byToken.keys()].sort();
  const rows = [...outcomes.byOutcome.entries()].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([outcome]) => outcome.length), 'outcome'.length);
  const header = `  ${'outcome'.padEnd(width)}  ${'orders'.padStart(6)}  ${tokens.map((token) => token.padStart(12)).join('  ')}`;
  return [
    header,
    ...rows.map(
      ([outcome, count]) =>
        `  ${outcome.padEnd(width)}  ${String(count).padStart(6)}  ${tokens
          .map((token) => String(outcomes.byToken.get(token)?.get(outcome) ?? 0).padStart(12))
          .join('  ')}`,
    ),
  ];
}

const LISTED = 20;

async function main(): Promise<number> {
  const parsed = parsedOrUsage(parse, USAGE);
  if (!parsed) return 2;
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const request = parsed;
  const began = Date.now();
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const random = seeded(request.seed);
  const plan = plans(request, random);

  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(request, runId);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'chaos-checkout-'));
  const shop = new ShopProcess({
    databaseUrl: database.url,
    port: await freePort(),
    dataDir: path.join(workDir, 'data'),
    logFile: path.join(workDir, 'shop.log'),
    orderTimeoutMs: ORDER_TIMEOUT_MS,
    paymentRetryDelayMs: PAYMENT_RETRY_DELAY_MS,
    logLevel: request.logLevel,
  });
  // Whatever ends this process, the shop ends with it.
  process.on('exit', () => shop.killNow());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      shop.killNow();
      process.exit(code);
    });
  }

  say(
    `chaos checkout: ${request.orders} orders from ${request.customers} customers, ${request.products} products, ` +
      `seed ${request.seed}`,
  );
  say(`database: ${database.url}${database.created ? ' (created for this run)' : ''}`);
  say(
    `shop: npm start on ${shop.base}, ORDER_TIMEOUT_MS=${ORDER_TIMEOUT_MS}, PAYMENT_RETRY_DELAY_MS=${PAYMENT_RETRY_DELAY_MS}`,
  );

  const run: RunState = {
    client: new ChaosClient(shop.base, noRetries()),
    products: [],
    placed: new Map(),
    failures: [],
    cancellations: [],
    tokens: new Map(),
  };
  const db = new pg.Client({ connectionString: database.url });
  let passed = false;
  try {
    await startPersistently(shop);
    await db.connect();
    const admin = await issueToken(run, `chaos-${runId}-admin`, ['admin']);
    for (const [index, stock] of plan.stock.entries()) {
      const priceCents = 1000 + index * 750;
      const { body } = await run.client.send(
        'POST',
        '/api/v1/products',
        {
          token: admin,
          body: {
            name: `Chaos product ${index + 1}`,
            price: (priceCents / 100).toFixed(2),
            initialStock: stock,
          },
        },
        [201],
      );
      run.products.push({ id: (body as { id: string }).id, priceCents, stock });
    }
    say(`products: ${run.products.map((product) => `${product.stock}`).join(', ')} in stock`);

    // Placing, while the shop is killed and started again.
    const placingBegan = Date.now();
    const chaos = new Chaos(shop, seeded(request.seed ^ 0x5eed), async () => {
      const { rows } = await db.query<{ position: string }>(
        "SELECT position::text FROM consumer_checkpoints WHERE consumer = 'checkout-saga'",
      );
      return rows[0]?.position;
    });
    try {
      await Promise.race([
        (async () => {
          await customers(run, runId, request, plan.orders);
          await Promise.all(run.cancellations);
        })(),
        chaos.failed,
      ]);
    } finally {
      await chaos.stop();
    }
    const placedIn = Date.now() - placingBegan;
    const cancels = [...run.placed.values()].filter((order) => order.cancel !== 'none');
    say(
      `placed: ${run.placed.size} of ${request.orders} orders in ${seconds(placedIn)}; ` +
        `${run.cancellations.length} cancellations asked, ${cancels.filter((order) => order.cancel === 'accepted').length} ` +
        `accepted (202), ${cancels.filter((order) => order.cancel === 'refused').length} refused (409: the order had ended)`,
    );
    say(
      `kills: ${shop.kills} (SIGKILL to the shop's process group every ${KILL_EVERY_MS.min / 1000} to ` +
        `${KILL_EVERY_MS.max / 1000} s of serving); starts: ${shop.starts}; exits nobody asked for: ${shop.unexpectedExits.length}; ` +
        `the checkout saga's checkpoint moved while serving before ${chaos.sagaMoved.filter(Boolean).length} of ` +
        `${chaos.sagaMoved.length} kills`,
    );
    const { retries } = run.client;
    say(
      `retries: ${totalRetries(retries)} requests sent again (${retries.unreachable} shop unreachable, ` +
        `${retries.timedOut} timed out, ${retries.unavailable} 502-504, ${retries.rateLimited} 429, ` +
        `${retries.serverErrors} other 5xx)`,
    );

    // Settling: the shop runs undisturbed until every order has ended.
    const settlingBegan = Date.now();
    let settledTwice = 0;
    let state = await unsettled(db);
    while (Date.now() - settlingBegan < SETTLE_TIMEOUT_MS) {
      // Exited on its own meanwhile (reported below): the orders still need a shop to end.
      if (!shop.running) await startPersistently(shop);
      state = await unsettled(db);
      const settled =
        state.pending.length === 0 &&
        state.unplacedCheckouts === 0 &&
        !state.sagaBehind &&
        state.deadlinesDue === 0;
      settledTwice = settled ? settledTwice + 1 : 0;
      if (settledTwice >= 2) break;
      await sleep(500);
    }
    const stuck: string[] = [];
    if (settledTwice >= 2) {
      say(`settled: every order ended ${seconds(Date.now() - settlingBegan)} after the last was placed`);
    } else {
      say(
        `settled: NOT within ${seconds(SETTLE_TIMEOUT_MS)}: ${state.pending.length} orders pending, ` +
          `${state.unplacedCheckouts} checkouts not placed, saga ${state.sagaBehind ? 'behind' : 'caught up'}, ` +
          `${state.deadlinesDue} deadlines due`,
      );
      for (const orderId of state.pending.slice(0, 10)) {
        stuck.push(
          `stuck: order ${orderId} (${run.placed.get(orderId)?.token ?? '?'}): ${await historyOf(db, orderId)}`,
        );
      }
    }

    // Checking: the API's answers first, then everything from the event store.
    const orderViews = new Map<string, OrderView>();
    const inventoryViews = new Map<string, InventoryView>();
    await inParallel([...run.placed.values()], 8, async (order) => {
      const { body } = await asCustomer(
        run,
        order.customer,
        'GET',
        `/api/v1/orders/${order.orderId}`,
        {},
        [200],
      );
      const view = body as { status: string; payment: { status: string }; cancellationReason?: string };
      orderViews.set(order.orderId, {
        status: view.status,
        paymentStatus: view.payment.status,
        cancellationReason: view.cancellationReason,
      });
    });
    for (const product of run.products) {
      const { body } = await run.client.send(
        'GET',
        `/api/v1/inventory/${product.id}`,
        { token: admin },
        [200],
      );
      inventoryViews.set(product.id, body as InventoryView);
    }
    const { checks, outcomes } = await checkEventStore(db, {
      orders: run.placed,
      productIds: run.products.map((product) => product.id),
      orderViews,
      inventoryViews,
    });
    await shop.stop();

    say('orders by outcome (from the order streams), by card token:');
    for (const line of outcomeTable(outcomes)) say(line);
    const latencies = outcomes.outcomeAfterMs;
    const at = (share: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))] ?? 0;
    say(
      `from placed to outcome: median ${seconds(at(0.5))}, 95th percentile ${seconds(at(0.95))}, ` +
        `longest ${seconds(latencies.at(-1) ?? 0)}`,
    );
    const expired = outcomes.byOutcome.get('CANCELLED expired') ?? 0;
    if (expired > 0) {
      say(
        `warning: ${expired} orders expired: the checkout saga had not completed them within ` +
          `ORDER_TIMEOUT_MS (${seconds(ORDER_TIMEOUT_MS)})`,
      );
    }
    say('checks (SQL on es_events, payment_simulator_charges, parked_events, checkout_deadlines):');
    const runProblems: CheckResult = {
      name: 'run',
      summary: '',
      violations: [
        ...run.failures,
        ...stuck,
        ...shop.unexpectedExits
          .filter((exit) => !exit.signalled)
          .map((exit) => `the shop ${exit.description}`),
        ...run.client.serverErrors.map((error) => `answered 5xx: ${error}`),
      ],
      notes: [],
    };
    for (const exit of shop.unexpectedExits.filter((candidate) => candidate.signalled)) {
      say(`note: the shop ${exit.description}: a signal from outside this run, not a crash`);
    }
    for (const result of checks) {
      say(`  ${result.violations.length === 0 ? 'ok  ' : 'FAIL'}  ${result.name}: ${result.summary}`);
      for (const note of result.notes) say(`          note: ${note}`);
    }
    const violations = [...checks, runProblems].flatMap((result) =>
      result.violations.map((violation) => `${result.name}: ${violation}`),
    );
    say(`took ${seconds(Date.now() - began)}`);
    if (violations.length > 0) {
      say(`chaos checkout FAILED: ${violations.length} violations`);
      for (const violation of violations.slice(0, LISTED * 5)) say(`  - ${violation}`);
      if (violations.length > LISTED * 5) say(`  ... and ${violations.length - LISTED * 5} more`);
      say(`kept for a look: the database ${database.url}, the shop's log ${path.join(workDir, 'shop.log')}`);
      return 1;
    }
    say(`chaos checkout passed: ${CHECK_NAMES.length} checks, no violations`);
    if (request.keepDatabase || !database.created) {
      say(`kept: the database ${database.url}, the shop's log ${path.join(workDir, 'shop.log')}`);
    }
    passed = true;
    return 0;
  } catch (error) {
    say(`chaos checkout FAILED: ${describe(error)}`);
    say(`kept for a look: the database ${database.url}, the shop's log ${path.join(workDir, 'shop.log')}`);
    return 1;
  } finally {
    shop.killNow();
    shop.close();
    await db.end().catch(() => undefined);
    if (passed && database.created && !request.keepDatabase) {
      await rm(workDir, { recursive: true, force: true });
      await database.drop();
    }
  }
}

// Exits explicitly: timers of requests given up on must not keep the run alive.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `chaos checkout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
