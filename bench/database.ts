import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { EventStore } from '../src/eventstore/eventStore.js';
import { startEmbeddedPostgres } from '../src/infrastructure/postgres/embeddedPostgres.js';
import { migrate } from '../src/infrastructure/postgres/migrate.js';

export const quietLogger = pino({ level: 'warn' });

export interface BenchDatabase {
  connectionString: string;
  /** What the figures were measured on, printed with them. */
  server: string;
  drop(): Promise<void>;
}

export interface BenchServer {
  /** What the figures were measured on, printed with them. */
  description: string;
  /** A fresh database on this server, migrated to the shop's schema unless `migrated` is false. */
  database(options?: { migrated?: boolean }): Promise<BenchDatabase>;
  /** Stops the server when the bench started it (embedded); drop its databases first. */
  stop(): Promise<void>;
}

/**
 * BENCH_DATABASE_URL's server, or an embedded PostgreSQL when it is unset, so that figures from
 * different machines say what they ran on; a bench comparing two systems gives each a database of
 * the same server.
 */
export async function benchServer(): Promise<BenchServer> {
  let serverUrl = process.env.BENCH_DATABASE_URL;
  let stop = async (): Promise<void> => undefined;
  if (!serverUrl) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-bench-'));
    const embedded = await startEmbeddedPostgres(dataDir, quietLogger);
    serverUrl = embedded.connectionString;
    stop = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const server = serverUrl;
  const onServer = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const version = await onServer((client) => client.query<{ server_version: string }>('SHOW server_version'));
  const description = `PostgreSQL ${version.rows[0]?.server_version ?? '?'} (${process.env.BENCH_DATABASE_URL ? 'BENCH_DATABASE_URL' : 'embedded'})`;
  return {
    description,
    stop,
    database: async ({ migrated = true } = {}) => {
      const name = `shop_bench_${randomUUID().replaceAll('-', '')}`;
      await onServer((client) => client.query(`CREATE DATABASE ${name}`));
      const url = new URL(server);
      url.pathname = `/${name}`;
      if (migrated) await migrate(url.href, quietLogger);
      return {
        connectionString: url.href,
        server: description,
        drop: async () =>
          void (await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
      };
    },
  };
}

/** A fresh, migrated database on a server of its own (see benchServer); `drop` stops that server too. */
export async function benchDatabase(): Promise<BenchDatabase> {
  const server = await benchServer();
  const database = await server.database();
  return {
    ...database,
    drop: async () => {
      await database.drop();
      await server.stop();
    },
  };
}

/** Runs `operation` `total` times spread over `concurrency` workers; answers operations per second. */
export async function rate(
  concurrency: number,
  total: number,
  operation: (worker: number) => Promise<void>,
): Promise<number> {
  let left = total;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (left > 0) {
        left -= 1;
        await operation(worker);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return total / seconds;
}

/** Events a second reading the whole store from position 0, `pageSize` a page. */
export async function readAllRate(store: EventStore, pageSize: number): Promise<number> {
  let from = 0;
  let read = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const batch = await store.readAll({ fromPosition: from, maxCount: pageSize });
    read += batch.length;
    const last = batch.at(-1);
    if (!last) break;
    from = last.position + 1;
  }
  return read / (Number(process.hrtime.bigint() - started) / 1e9);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The value `p` percent of `values` are at or below (nearest rank); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

export function printTable(title: string, rows: (string | number)[][]): void {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => String(row[column]).length))) ?? [];
  process.stdout.write(`\n${title}\n`);
  for (const [index, row] of rows.entries()) {
    process.stdout.write(
      `${row.map((cell, column) => String(cell).padStart(widths[column] ?? 0)).join('  ')}\n`,
    );
    if (index === 0) process.stdout.write(`${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  }
}
