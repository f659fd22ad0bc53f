import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  type Answer,
  type Child,
  HttpClient,
  killChildren,
  startReportingChild,
  startShop,
} from './children.js';
import { type BenchDatabase, benchServer, median, percentile, printTable } from './database.js';

/** Open loop: checkouts start on a schedule, whether or not the ones before have finished. */
const STEP_SECONDS = 8;
const HALF_RATE_SECONDS = 16;
const WARM_UP = { rate: 10, seconds: 3 };
const START_RATE = 10;
/** Steps between the highest rate that held and the lowest that did not, after doubling found both. */
const REFINEMENTS = 3;
const P99_LIMIT_MS = 1000;
/** A step in which more fail than this, by error or cancellation, did not hold. */
const MAX_FAILED_SHARE = 0.01;
/** A step is given up once this many seconds of arrivals wait unfinished: it cannot hold any more. */
const GIVE_UP_BACKLOG_SECONDS = 2;
const CHECKOUT_TIMEOUT_MS = 10_000;
const POLL_MS = 15;
const CUSTOMERS = 1500;
const PRODUCTS = 200;
const STOCK_PER_PRODUCT = 1_000_000;
const SETUP_CONCURRENCY = 8;

const SHIPPING_ADDRESS = {
  name: 'Bench Shopper',
  line1: '1 Main St',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
const PAYMENT_METHOD = { type: 'card', token: 'tok_visa' };

/** A checkout that did not reach CONFIRMED, and why. */
class CheckoutFailed extends Error {}

function expectStatus(answer: Answer, expected: number, what: string): Answer {
  if (answer.status === expected) return answer;
  const detail = typeof answer.body.detail === 'string' ? `: ${answer.body.detail}` : '';
  throw new CheckoutFailed(`${what} answered ${answer.status}${detail}`);
}

/** One system under test as the load generator drives it. */
interface Side {
  name: string;
  http: HttpClient;
  /** Mints a token with the system's own issuer. */
  token(sub: string, roles: string[]): Promise<string>;
  createProduct(adminToken: string, index: number): Promise<string>;
  addToCart(customerToken: string, productId: string): Promise<void>;
  /** Places the order; resolves once it is CONFIRMED, with the milliseconds from the POST. */
  placeOrder(customerToken: string, idempotencyKey: string): Promise<number>;
  /** Resolves once the system has nothing left to do for checkouts already answered. */
  settle(): Promise<void>;
}

const productBody = (index: number) => ({
  name: `Bench product ${index}`,
  price: '25.00',
  initialStock: STOCK_PER_PRODUCT,
});

/** Both sides mint tokens at `POST /dev/token`, the shop's development issuer and the baseline's own. */
const devTokens =
  (client: HttpClient): Side['token'] =>
  async (sub, roles) => {
    const answer = expectStatus(
      await client.send('POST', '/dev/token', { body: { sub, roles } }),
      200,
      'token',
    );
    return String(answer.body.access_token);
  };

function shopSide(port: number, events: EventCount): Side {
  const client = new HttpClient(port);
  return {
    name: 'ours (event-sourced)',
    http: client,
    token: devTokens(client),
    createProduct: async (token, index) => {
      const answer = await client.send('POST', '/api/v1/products', { token, body: productBody(index) });
      return String(expectStatus(answer, 201, 'POST /products').body.id);
    },
    addToCart: async (token, productId) => {
      const answer = await client.send('POST', '/api/v1/cart/items', {
        token,
        body: { productId, quantity: 1 },
      });
      expectStatus(answer, 200, 'POST /cart/items');
    },
    placeOrder: async (token, idempotencyKey) => {
      const started = performance.now();
      const placed = await client.send('POST', '/api/v1/orders', {
        token,
        headers: { 'idempotency-key': idempotencyKey },
        body: { shippingAddress: SHIPPING_ADDRESS, paymentMethod: PAYMENT_METHOD },
      });
      const orderId = String(expectStatus(placed, 202, 'POST /orders').body.orderId);
      for (;;) {
        await sleep(POLL_MS);
        const order = expectStatus(
          await client.send('GET', `/api/v1/orders/${orderId}`, { token }),
          200,
          'GET /orders/{id}',
        );
        if (order.body.status === 'CONFIRMED') return performance.now() - started;
        if (order.body.status === 'CANCELLED') {
          throw new CheckoutFailed(`cancelled: ${String(order.body.cancellationReason)}`);
        }
        if (performance.now() - started > CHECKOUT_TIMEOUT_MS) {
          throw new CheckoutFailed(`still ${String(order.body.status)} after 10 s`);
        }
      }
    },
    settle: () => events.settled(),
  };
}

function crudSide(port: number): Side {
  const client = new HttpClient(port);
  return {
    name: 'CRUD baseline',
    http: client,
    token: devTokens(client),
    createProduct: async (token, index) => {
      const answer = await client.send('POST', '/products', { token, body: productBody(index) });
      return String(expectStatus(answer, 201, 'POST /products').body.id);
    },
    addToCart: async (token, productId) => {
      const answer = await client.send('POST', '/cart/items', { token, body: { productId, quantity: 1 } });
      expectStatus(answer, 200, 'POST /cart/items');
    },
    placeOrder: async (token, idempotencyKey) => {
      const started = performance.now();
      const placed = await client.send('POST', '/orders', {
        token,
        headers: { 'idempotency-key': idempotencyKey },
        body: { shippingAddress: SHIPPING_ADDRESS, paymentMethod: PAYMENT_METHOD },
      });
      const status = expectStatus(placed, 201, 'POST /orders').body.status;
      if (status !== 'CONFIRMED') throw new CheckoutFailed(`answered ${String(status)}`);
      return performance.now() - started;
    },
    settle: async () => undefined,
  };
}

/** Rows in the shop's es_events, read beside it over a connection of the bench's own. */
class EventCount {
  private constructor(private readonly client: pg.Client) {}

  static async open(connectionString: string): Promise<EventCount> {
    const client = new pg.Client({ connectionString, application_name: 'checkout-bench' });
    await client.connect();
    return new EventCount(client);
  }

  async head(): Promise<number> {
    const result = await this.client.query<{ head: string }>(
      'SELECT coalesce(max(position), 0)::text AS head FROM es_events',
    );
    return Number(result.rows[0]?.head);
  }

  /** Rows after `position`, by type. */
  async since(position: number): Promise<Map<string, number>> {
    const result = await this.client.query<{ type: string; n: string }>(
      'SELECT type, count(*)::text AS n FROM es_events WHERE position > $1 GROUP BY type ORDER BY type',
      [position],
    );
    return new Map(result.rows.map((row) => [row.type, Number(row.n)]));
  }

  /** The saga may still append after an order is CONFIRMED (committing the reservations): wait for quiet. */
  async settled(): Promise<void> {
    let last = await this.head();
    for (let quiet = 0, waited = 0; quiet < 3 && waited < 100; waited += 1) {
      await sleep(100);
      const now = await this.head();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

interface Fixture {
  side: Side;
  products: string[];
  /**
   * Tokens of the customers not in a checkout now, longest idle first: one checkout at a time per
   * cart, and every customer in turn, so that none nears the shop's rate limit per user.
   */
  idle: string[];
  checkouts: number;
}

async function inParallel<T>(count: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: SETUP_CONCURRENCY }, async () => {
      for (let index = next++; index < count; index = next++) results[index] = await work(index);
    }),
  );
  return results;
}

/** Products and customer tokens, made before anything is measured. */
async function fixture(side: Side): Promise<Fixture> {
  const admin = await side.token('bench-admin', ['admin']);
  const products = await inParallel(PRODUCTS, (index) => side.createProduct(admin, index));
  const idle = await inParallel(CUSTOMERS, (index) => side.token(`bench-customer-${index}`, ['customer']));
  return { side, products, idle, checkouts: 0 };
}

interface Step {
  rate: number;
  seconds: number;
  started: number;
  /** Checkouts started a second, as the generator managed them. */
  startedPerSecond: number;
  /** Checkouts confirmed a second within the arrival window. */
  completedPerSecond: number;
  latencies: number[];
  failures: Map<string, number>;
  p50: number;
  p99: number;
  held: boolean;
  /** 'held', or why not. */
  verdict: string;
}

async function runStep(fixture: Fixture, rate: number, seconds: number): Promise<Step> {
  const { side, products, idle } = fixture;
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const fail = (reason: string): void => void failures.set(reason, (failures.get(reason) ?? 0) + 1);
  const running = new Set<Promise<void>>();
  const windowMs = seconds * 1000;
  let completedInWindow = 0;
  let started = 0;
  let givenUp = false;
  const begin = performance.now();

  const checkout = async (): Promise<void> => {
    const token = idle.shift();
    if (token === undefined) {
      fail('no idle customer');
      return;
    }
    const number = (fixture.checkouts += 1);
    try {
      await side.addToCart(token, products[number % products.length] as string);
      latencies.push(await side.placeOrder(token, `bench-${number}`));
      if (performance.now() - begin <= windowMs) completedInWindow += 1;
    } catch (error) {
      fail(error instanceof CheckoutFailed ? error.message : `error: ${(error as Error).message}`);
    } finally {
      idle.push(token);
    }
  };

  let lastStartAt = begin;
  while (started < total) {
    const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * rate) + 1);
    for (; started < due; started += 1) {
      const one = checkout().finally(() => running.delete(one));
      running.add(one);
      lastStartAt = performance.now();
    }
    if (running.size > Math.min(rate * GIVE_UP_BACKLOG_SECONDS, CUSTOMERS / 2)) {
      givenUp = true;
      break;
    }
    await sleep(Math.max(1, Math.min(5, begin + ((started + 1) / rate) * 1000 - performance.now())));
  }
  const backlogAtEnd = running.size;
  await Promise.all(running);
  await side.settle();

  const startedPerSecond = started / ((lastStartAt - begin) / 1000 + 1 / rate);
  const failed = [...failures.values()].reduce((sum, n) => sum + n, 0);
  // A checkout that failed counts as slower than any that succeeded.
  const all = [...latencies, ...Array<number>(failed).fill(Number.POSITIVE_INFINITY)];
  const p50 = median(all);
  const p99 = percentile(all, 99);
  const verdicts = [
    givenUp
      ? `given up: over ${GIVE_UP_BACKLOG_SECONDS} s of arrivals (or half the customers) unfinished`
      : '',
    p99 > P99_LIMIT_MS ? `p99 over ${P99_LIMIT_MS} ms` : '',
    failed > started * MAX_FAILED_SHARE ? `${failed} failed` : '',
    backlogAtEnd > rate * (P99_LIMIT_MS / 1000) ? 'completions behind arrivals' : '',
    startedPerSecond < rate * 0.95 ? 'the generator fell behind its schedule' : '',
  ].filter(Boolean);
  return {
    rate,
    seconds,
    started,
    startedPerSecond,
    completedPerSecond: completedInWindow / seconds,
    latencies,
    failures,
    p50,
    p99,
    held: verdicts.length === 0,
    verdict: verdicts.join('; ') || 'held',
  };
}

/** Doubles the rate until a step does not hold, then narrows the gap; answers every step run. */
async function findSustainedRate(fixture: Fixture): Promise<{ sustained: number; steps: Step[] }> {
  const steps: Step[] = [];
  const step = async (rate: number): Promise<boolean> => {
    const result = await runStep(fixture, rate, STEP_SECONDS);
    steps.push(result);
    return result.held;
  };
  let held = 0;
  let failed = START_RATE;
  for (let rate = START_RATE; await step(rate); rate *= 2) {
    held = rate;
    failed = rate * 2;
  }
  for (let refinement = 0; refinement < REFINEMENTS; refinement += 1) {
    const rate = Math.round(held > 0 ? Math.sqrt(held * failed) : failed / 2);
    if (rate <= held || rate >= failed) break;
    if (await step(rate)) held = rate;
    else failed = rate;
  }
  return { sustained: held, steps };
}

const startBaseline = (database: BenchDatabase) =>
  startReportingChild('the CRUD baseline', 'bench/crudBaseline.ts', {
    BASELINE_DATABASE_URL: database.connectionString,
  });

const round = (value: number): number => Math.round(value);
const ms = (value: number): number | string => (Number.isFinite(value) ? Math.round(value) : 'inf');
const ratio = (value: number): number => Math.round(value * 100) / 100;

function stepRows(name: string, steps: Step[]): (string | number)[][] {
  return steps.map((step) => [
    name,
    step.rate,
    round(step.startedPerSecond),
    round(step.completedPerSecond),
    ms(step.p50),
    ms(step.p99),
    [...step.failures.entries()].map(([reason, n]) => `${n} ${reason}`).join(', ') || 0,
    step.verdict,
  ]);
}

interface SideResult {
  sustained: number;
  steps: Step[];
  half: Step;
}

function report(results: {
  server: string;
  seconds: number;
  setUpSeconds: number;
  ours: SideResult;
  crud: SideResult;
  /** Rows the shop's half-rate step added to es_events, by type. */
  appended: Map<string, number>;
}): void {
  const { ours, crud } = results;
  const checkouts = ours.half.started;
  const eventsPerCheckout = [...results.appended.values()].reduce((sum, n) => sum + n, 0) / checkouts;
  const eventTypes = [...results.appended.entries()].map(([type, n]) => `${type} ${ratio(n / checkouts)}`);
  const sustainedRatio = ours.sustained / crud.sustained;
  const notes = [
    `checkout bench on ${results.server}, ${process.version}, ${os.cpus().length} cores, ` +
      `${round(results.seconds)} s (${round(results.setUpSeconds)} s of it setting up); each side in a process ` +
      `and a fresh database of its own on that server, the load generator in this process, all on the same cores`,
    `workload: a checkout adds 1 of one of ${PRODUCTS} products (stock ${STOCK_PER_PRODUCT} each) to the cart, ` +
      `places the order and waits for CONFIRMED; ${CUSTOMERS} customers take turns, one checkout at a time each, ` +
      `their tokens minted before measuring`,
    `open loop: checkouts start on a fixed schedule, ${STEP_SECONDS} s a step, the rate doubling from ${START_RATE}/s ` +
      `until a step fails, then ${REFINEMENTS} steps between; a step holds while p99 from POST /orders to CONFIRMED ` +
      `<= ${P99_LIMIT_MS} ms, <= ${MAX_FAILED_SHARE * 100}% fail and <= ${P99_LIMIT_MS / 1000} s of arrivals ` +
      `are unfinished when the last starts (confirmed/s: within the step)`,
    `ours: the shop answers 202 PENDING; our latency includes polling GET /orders/{id} every ${POLL_MS} ms ` +
      `until CONFIRMED (up to ${POLL_MS} ms of it, and the GETs load the shop)`,
    `CRUD: express + pg; POST /orders is one transaction (stock rows FOR UPDATE, decrement, order, lines, ` +
      `payment) answering CONFIRMED`,
    `auth: both verify an RS256 bearer token once a request, against a key parsed at start; ` +
      `the baseline has no rate limiter and checks bodies by hand`,
  ];
  process.stdout.write(`${notes.join('\n')}\n`);
  printTable('rate steps (checkouts/s)', [
    ['side', 'rate', 'started/s', 'confirmed/s', 'p50 ms', 'p99 ms', 'failed', 'verdict'],
    ...stepRows('ours', ours.steps),
    ...stepRows('CRUD', crud.steps),
    ...stepRows('ours, half', [ours.half]),
    ...stepRows('CRUD, half', [crud.half]),
  ]);
  printTable(
    `checkout: ours against the CRUD baseline (half rate: ${HALF_RATE_SECONDS} s at half the sustained rate)`,
    [
      ['figure', 'ours', 'CRUD', 'ours/CRUD', 'goal'],
      [
        'sustained checkouts/s (p99 <= 1 s)',
        ours.sustained,
        crud.sustained,
        ratio(sustainedRatio),
        `ours/CRUD >= 0.5: ${sustainedRatio >= 0.5 ? 'met' : 'not met'}`,
      ],
      [
        'p50 ms at half sustained',
        ms(ours.half.p50),
        ms(crud.half.p50),
        ratio(ours.half.p50 / crud.half.p50),
        '',
      ],
      [
        'p99 ms at half sustained',
        ms(ours.half.p99),
        ms(crud.half.p99),
        ratio(ours.half.p99 / crud.half.p99),
        `ours <= 150 ms: ${ours.half.p99 <= 150 ? 'met' : 'not met'}`,
      ],
      ['es_events rows a checkout', ratio(eventsPerCheckout), '-', '', ''],
    ],
  );
  process.stdout.write(
    `es_events rows a checkout, by type (add to cart included): ${eventTypes.join(', ')}\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'checkout',
      figures: {
        oursSustainedCheckoutsPerSecond: ours.sustained,
        crudSustainedCheckoutsPerSecond: crud.sustained,
        oursHalfRateP50Ms: round(ours.half.p50),
        oursHalfRateP99Ms: round(ours.half.p99),
        crudHalfRateP50Ms: round(crud.half.p50),
        crudHalfRateP99Ms: round(crud.half.p99),
        eventStoreRowsPerCheckout: ratio(eventsPerCheckout),
      },
      ratios: { sustainedVsCrud: ratio(sustainedRatio) },
    })}\n`,
  );
}

export async function benchCheckout(): Promise<void> {
  const benchStarted = performance.now();
  const server = await benchServer();
  const databases: BenchDatabase[] = [];
  const started: Child[] = [];
  const clients: HttpClient[] = [];
  let events: EventCount | undefined;
  const shopDataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-bench-checkout-'));
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const client of clients) client.close();
      await events?.close().catch(() => undefined);
      await Promise.allSettled(started.map((child) => child.stop()));
      await Promise.allSettled(databases.map((database) => database.drop()));
      await server.stop();
      await rm(shopDataDir, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`checkout bench: ${signal}, stopping its children\n`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.on('exit', killChildren);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const [shopDatabase, crudDatabase] = await Promise.all([
      server.database({ migrated: false }),
      server.database({ migrated: false }),
    ]);
    databases.push(shopDatabase, crudDatabase);
    const [shop, crud] = await Promise.all([
      startShop(shopDatabase, shopDataDir),
      startBaseline(crudDatabase),
    ]);
    started.push(shop.child, crud.child);
    events = await EventCount.open(shopDatabase.connectionString);
    const ours = shopSide(shop.port, events);
    const theirs = crudSide(crud.port);
    clients.push(ours.http, theirs.http);

    const [oursFixture, crudFixture] = [await fixture(ours), await fixture(theirs)];
    const setUpSeconds = (performance.now() - benchStarted) / 1000;
    const ramp = async (side: Fixture): Promise<{ sustained: number; steps: Step[] }> => {
      await runStep(side, WARM_UP.rate, WARM_UP.seconds);
      return findSustainedRate(side);
    };
    const halfOf = (rate: number): number => Math.max(1, Math.round(rate / 2));
    // Each side is measured in one stretch, so that neither side's half-rate step follows a pause
    // while the other side ran (its pools idle, its server's tables being vacuumed).
    const oursFound = await ramp(oursFixture);
    const before = await events.head();
    const oursHalf = await runStep(oursFixture, halfOf(oursFound.sustained), HALF_RATE_SECONDS);
    const appended = await events.since(before);
    const crudFound = await ramp(crudFixture);
    const crudHalf = await runStep(crudFixture, halfOf(crudFound.sustained), HALF_RATE_SECONDS);
    report({
      server: server.description,
      seconds: (performance.now() - benchStarted) / 1000,
      setUpSeconds,
      ours: { ...oursFound, half: oursHalf },
      crud: { ...crudFound, half: crudHalf },
      appended,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
    process.off('exit', killChildren);
  }
}
