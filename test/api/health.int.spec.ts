import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { loadConfig } from '../../src/infrastructure/config.js';
import { type RunningShop, startShop } from '../../src/infrastructure/container.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const WORKERS = ['checkout-completer', 'checkout-saga', 'catalog', 'orders', 'sales', 'checkout-deadlines'];

describe('Operations endpoints', () => {
  let database: TestDatabase;
  let shop: RunningShop;
  let base: string;

  before(async () => {
    database = await createTestDatabase();
    shop = await startShop(loadConfig({ DATABASE_URL: database.connectionString, PORT: '0' }), silentLogger);
    base = `http://127.0.0.1:${shop.port}`;
  });

  after(async () => {
    await shop.stop();
    await database.drop();
  });

  describe('while the database answers', () => {
    it('is live and ready, with each check up', async () => {
      expect((await fetch(`${base}/health/live`)).status).to.equal(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({
        status: 'up',
        checks: {
          eventStore: 'up',
          readModels: 'up',
          'checkout-completer': 'up',
          'checkout-saga': 'up',
          catalog: 'up',
          orders: 'up',
          sales: 'up',
          'checkout-deadlines': 'up',
        },
      });
    });

    it('serves Prometheus metrics, the delivery stall among them', async () => {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).to.match(/^text\/plain/);
      expect(await metrics.text()).to.match(/^eventstore_delivery_stall_seconds 0$/m);
    });
  });

  describe('once the database is gone', () => {
    before(async () => {
      await database.drop();
    });

    it('stays live but answers 503 on readiness, naming the failing checks', async () => {
      expect((await fetch(`${base}/health/live`)).status).to.equal(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).to.equal(503);
      expect(ready.headers.get('retry-after')).to.equal('5');
      expect(await ready.json()).to.deep.include({ status: 'down' });
    });

    it('reports the consumers of the event stream and the deadline worker down once they failed', async () => {
      let checks: Record<string, string> = {};
      await waitFor(
        async () => {
          ({ checks } = (await (await fetch(`${base}/health/ready`)).json()) as {
            checks: Record<string, string>;
          });
          return WORKERS.every((worker) => checks[worker] === 'down');
        },
        10_000,
        () => JSON.stringify(checks),
      );
      expect(checks).to.deep.equal({
        eventStore: 'down',
        readModels: 'down',
        ...Object.fromEntries(WORKERS.map((worker) => [worker, 'down'])),
      });
    });

    it('answers API requests 503 with Retry-After, not 500', async () => {
      const response = await fetch(`${base}/api/v1/products/${randomUUID()}`);
      expect(response.status).to.equal(503);
      expect(response.headers.get('retry-after')).to.equal('5');
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });
  });
});
