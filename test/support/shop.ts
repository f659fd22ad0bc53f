import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Express } from 'express';
import pg from 'pg';
import type { Role } from '../../src/api/auth/authenticate.js';
import { loadConfig } from '../../src/infrastructure/config.js';
import { type RunningShop, startShop } from '../../src/infrastructure/container.js';
import { createTestDatabase, silentLogger, type TestDatabase } from './testDatabase.js';
import { waitFor } from './waitFor.js';

export interface CallOptions {
  method?: string;
  /** Sent as JSON unless it is already a string. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestShop {
  base: string;
  connectionString: string;
  call(path: string, options?: CallOptions): Promise<Response>;
  /** A token from the shop's development issuer, validated like any other. */
  tokenFor(sub: string, roles: readonly Role[]): Promise<string>;
  /** Stops the shop and starts a new one on the same database, data dir and port. */
  restart(): Promise<void>;
  /** The running express application, to list its routes. */
  app(): Express;
  /** How many events the store holds: to show that a refused request wrote nothing. */
  eventCount(): Promise<number>;
  /** Waits until the checkout saga has handled every event and no deadline of it is due. */
  checkoutsSettled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The whole shop, as `npm start` wires it, on a fresh database and data dir, on a free port. */
export async function startTestShop(env: Record<string, string> = {}): Promise<TestShop> {
  const database: TestDatabase = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-http-'));
  const boot = (port: string): Promise<RunningShop> =>
    startShop(
      loadConfig({
        NODE_ENV: 'test',
        PORT: port,
        DATA_DIR: dataDir,
        DATABASE_URL: database.connectionString,
        LOG_LEVEL: 'silent',
        ...env,
      }),
      silentLogger,
    );
  let shop: RunningShop;
  try {
    shop = await boot('0');
  } catch (error) {
    await database.drop();
    throw error;
  }
  const base = `http://127.0.0.1:${shop.port}`;

  const call = (pathname: string, options: CallOptions = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    return fetch(`${base}${pathname}`, {
      method: options.method ?? 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
    });
  };

  return {
    base,
    connectionString: database.connectionString,
    call,
    tokenFor: async (sub, roles) => {
      const response = await call('/dev/token', { method: 'POST', body: { sub, roles } });
      expect(response.status, 'the development issuer answers').to.equal(200);
      return ((await response.json()) as { access_token: string }).access_token;
    },
    app: () => shop.app,
    restart: async () => {
      await shop.stop();
      shop = await boot(String(shop.port));
    },
    eventCount: async () => {
      const client = new pg.Client({ connectionString: database.connectionString });
      await client.connect();
      try {
        const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM es_events');
        return Number(rows[0]?.count);
      } finally {
        await client.end();
      }
    },
    checkoutsSettled: async (timeoutMs = 15_000) => {
      const client = new pg.Client({ connectionString: database.connectionString });
      await client.connect();
      let seen: unknown;
      try {
        await waitFor(
          async () => {
            // One statement, one snapshot: a deadline's effect is appended before the deadline is deleted.
            const { rows } = await client.query<{ behind: boolean; due: boolean }>(
              `SELECT coalesce((SELECT max(position) FROM es_events), -1)
                        > coalesce((SELECT position FROM consumer_checkpoints WHERE consumer = 'checkout-saga'), -1) AS behind,
                      EXISTS (SELECT 1 FROM checkout_deadlines WHERE due_at <= now() AND parked_at IS NULL) AS due`,
            );
            seen = rows[0];
            return rows[0]?.behind === false && rows[0].due === false;
          },
          timeoutMs,
          () => `the checkout saga is not settled: ${JSON.stringify(seen)}`,
        );
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      await shop.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts an RFC 9457 answer with this status and returns its body. */
export async function expectProblem(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect(response.status, text).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).to.include({ status });
  return problem;
}

/** The field names a 400 problem lists. */
export const fieldsOf = (problem: Record<string, unknown>): string[] =>
  ((problem.errors ?? []) as { field: string }[]).map((error) => error.field);

export const TEST_ADDRESS = {
  name: 'Test Recipient',
  line1: '1 Main St',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};

/**
 * The way to an order: an administrator stocks a kettle at 25.00, the shopper puts `quantity` of
 * it in the cart and orders it to TEST_ADDRESS, paying with `cardToken`. Answers the order's id.
 */
export async function orderKettles(
  shop: TestShop,
  tokens: { admin: string; shopper: string },
  quantity: number,
  headers: Record<string, string> = {},
  cardToken = 'tok_visa',
): Promise<string> {
  const created = await shop.call('/api/v1/products', {
    method: 'POST',
    token: tokens.admin,
    body: { name: 'Kettle', price: '25.00', initialStock: 10 },
  });
  const { id: productId } = (await created.json()) as { id: string };
  const added = await shop.call('/api/v1/cart/items', {
    method: 'POST',
    token: tokens.shopper,
    body: { productId, quantity },
  });
  expect(added.status).to.equal(200);
  const placed = await shop.call('/api/v1/orders', {
    method: 'POST',
    token: tokens.shopper,
    headers: { 'idempotency-key': randomUUID(), ...headers },
    body: { shippingAddress: TEST_ADDRESS, paymentMethod: { type: 'card', token: cardToken } },
  });
  expect(placed.status, await placed.clone().text()).to.equal(202);
  return ((await placed.json()) as { orderId: string }).orderId;
}
