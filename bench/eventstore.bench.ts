import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { EventStore, EventToAppend } from '../src/eventstore/eventStore.js';
import { createPool, postgresConnectionConfig } from '../src/infrastructure/postgres/database.js';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgresEventStore.js';
import { benchDatabase, median, printTable, quietLogger, rate, readAllRate } from './database.js';

const CONCURRENCIES = [1, 8, 16];
const SINGLE_APPENDS = 4000;
const TEN_EVENT_APPENDS = 1000;
const RAW_INSERTS = 4000;
const READ_ALL_EVENTS = 100_000;
const READ_BATCH = 1000;
const LATENCY_SAMPLES = 50;
/** This machine's figures vary by a quarter from run to run; each figure is the median of rounds interleaved with its baseline. */
const ROUNDS = 3;

function event(index: number): EventToAppend {
  return {
    id: randomUUID(),
    type: 'CartItemAdded',
    data: { productId: randomUUID(), quantity: (index % 50) + 1, unitPriceCents: 2999 },
    metadata: {
      correlationId: randomUUID(),
      causationId: randomUUID(),
      actor: 'system:bench',
      schemaVersion: 1,
    },
  };
}

/** Each worker writes like a command handler: to its own stream, with the expected revision it knows. */
function streamWriters(store: EventStore, eventsPerAppend: number) {
  const writers = new Map<number, { streamId: string; revision: number }>();
  return async (worker: number): Promise<void> => {
    let writer = writers.get(worker);
    if (!writer || writer.revision >= 100) writer = { streamId: `cart-${randomUUID()}`, revision: -1 };
    const events = Array.from({ length: eventsPerAppend }, (_, index) => event(index));
    const result = await store.append(
      writer.streamId,
      events,
      writer.revision === -1 ? 'no_stream' : writer.revision,
    );
    writers.set(worker, { streamId: writer.streamId, revision: result.revision });
  };
}

async function rawInsertRate(pool: pg.Pool, concurrency: number): Promise<number> {
  return rate(concurrency, RAW_INSERTS, async (index) => {
    const payload = event(index);
    await pool.query({
      name: 'bench_raw_insert',
      text: `INSERT INTO bench_raw (event_id, stream_id, type, data, metadata, recorded_at)
             VALUES ($1, $2, $3, $4, $5, now())`,
      values: [payload.id, `cart-${randomUUID()}`, payload.type, payload.data, payload.metadata],
    });
  });
}

async function rawScanRate(pool: pg.Pool): Promise<number> {
  let after = '-1';
  let read = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const result = await pool.query<{ position: string }>({
      name: 'bench_raw_scan',
      text: 'SELECT * FROM es_events WHERE position > $1 ORDER BY position LIMIT $2',
      values: [after, READ_BATCH],
    });
    read += result.rows.length;
    const last = result.rows.at(-1);
    if (!last) break;
    after = last.position;
  }
  return read / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Milliseconds from the start of an append to its delivery, one append at a time on an idle store. */
async function deliveryLatencies(writer: EventStore, subscriber: EventStore): Promise<number[]> {
  const controller = new AbortController();
  const from = (await writer.headPosition()) + 1;
  const deliveredAt = new Map<string, number>();
  const subscription = subscriber.subscribeToAll({ fromPosition: from, signal: controller.signal });
  const consuming = (async () => {
    for await (const delivered of subscription) {
      deliveredAt.set(delivered.id, performance.now());
    }
  })();
  const latencies: number[] = [];
  for (let sample = 0; sample < LATENCY_SAMPLES; sample += 1) {
    const written = event(sample);
    const started = performance.now();
    await writer.append(`latency-${randomUUID()}`, [written], 'no_stream');
    while (!deliveredAt.has(written.id)) await new Promise((resolve) => setImmediate(resolve));
    latencies.push((deliveredAt.get(written.id) as number) - started);
  }
  controller.abort();
  await consuming;
  return latencies;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const round = (value: number): number => Math.round(value);
const ratio = (value: number): number => Math.round(value * 100) / 100;

export async function benchEventStore(): Promise<void> {
  const database = await benchDatabase();
  const pool = createPool(database.connectionString, quietLogger, 40);
  const newStore = (): PostgresEventStore =>
    new PostgresEventStore({
      pool,
      connection: postgresConnectionConfig(database.connectionString, 'shop-bench-listener'),
      logger: quietLogger,
    });
  const store = newStore();
  const otherProcess = newStore();
  const figures: Record<string, number> = {};
  const ratios: Record<string, number> = {};
  try {
    await pool.query(`CREATE TABLE bench_raw (id bigserial PRIMARY KEY, event_id uuid, stream_id text, type text,
                                              data json, metadata json, recorded_at timestamptz)`);
    const appendRows: (string | number)[][] = [
      ['writers', 'raw INSERT/s', 'appends/s', 'x raw', '10-event appends: events/s', 'x single'],
    ];
    for (const concurrency of CONCURRENCIES) {
      const rounds = { raw: [] as number[], single: [] as number[], tenEvents: [] as number[] };
      for (let pass = 0; pass < ROUNDS; pass += 1) {
        rounds.raw.push(await rawInsertRate(pool, concurrency));
        rounds.single.push(await rate(concurrency, SINGLE_APPENDS, streamWriters(store, 1)));
        rounds.tenEvents.push((await rate(concurrency, TEN_EVENT_APPENDS, streamWriters(store, 10))) * 10);
      }
      const [raw, single, tenEvents] = [median(rounds.raw), median(rounds.single), median(rounds.tenEvents)];
      figures[`rawInsertsPerSecond_c${concurrency}`] = round(raw);
      figures[`singleEventAppendsPerSecond_c${concurrency}`] = round(single);
      figures[`tenEventAppendEventsPerSecond_c${concurrency}`] = round(tenEvents);
      ratios[`singleVsRaw_c${concurrency}`] = ratio(single / raw);
      ratios[`tenEventVsSingle_c${concurrency}`] = ratio(tenEvents / single);
      appendRows.push([
        concurrency,
        round(raw),
        round(single),
        ratio(single / raw),
        round(tenEvents),
        ratio(tenEvents / single),
      ]);
    }
    const stored = (await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events')).rows[0]?.n;
    await rate(16, Math.max(0, Math.ceil((READ_ALL_EVENTS - Number(stored)) / 100)), async () => {
      await store.append(
        `bulk-${randomUUID()}`,
        Array.from({ length: 100 }, (_, index) => event(index)),
        'no_stream',
      );
    });
    const events = Number(
      (await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events')).rows[0]?.n,
    );
    await rawScanRate(pool);
    const reads = { scan: [] as number[], readAll: [] as number[] };
    for (let pass = 0; pass < ROUNDS; pass += 1) {
      reads.scan.push(await rawScanRate(pool));
      reads.readAll.push(await readAllRate(store, READ_BATCH));
    }
    const [scan, readAll] = [median(reads.scan), median(reads.readAll)];
    figures.readAllEventsPerSecond = round(readAll);
    figures.rawScanRowsPerSecond = round(scan);
    figures.eventsRead = events;
    ratios.readAllVsRawScan = ratio(readAll / scan);

    const local = await deliveryLatencies(store, store);
    const remote = await deliveryLatencies(store, otherProcess);
    figures.liveDeliveryP50Ms_sameProcess = ratio(percentile(local, 50));
    figures.liveDeliveryP99Ms_sameProcess = ratio(percentile(local, 99));
    figures.liveDeliveryP50Ms_otherProcess = ratio(percentile(remote, 50));
    figures.liveDeliveryP99Ms_otherProcess = ratio(percentile(remote, 99));

    process.stdout.write(`event store bench on ${database.server}, ${process.version}\n`);
    printTable(
      'appends (single-event appends at each concurrency, against raw single-row INSERTs of the same payload)',
      appendRows,
    );
    printTable(`reading all ${events} events from position 0, ${READ_BATCH} a batch`, [
      ['reader', 'events/s', 'x raw scan'],
      ['raw pg keyset scan', round(scan), 1],
      ['store.readAll', round(readAll), ratio(readAll / scan)],
    ]);
    printTable(`live delivery on an idle store (${LATENCY_SAMPLES} appends, one at a time)`, [
      ['subscriber', 'p50 ms', 'p99 ms'],
      ['same process', ratio(percentile(local, 50)), ratio(percentile(local, 99))],
      ['other process (LISTEN/NOTIFY)', ratio(percentile(remote, 50)), ratio(percentile(remote, 99))],
    ]);
    process.stdout.write(`${JSON.stringify({ bench: 'eventstore', figures, ratios })}\n`);
  } finally {
    await otherProcess.close();
    await store.close();
    await pool.end();
    await database.drop();
  }
}
