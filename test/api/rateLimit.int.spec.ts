import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/infrastructure/config.js';
import { type RunningShop, startShop } from '../../src/infrastructure/container.js';
import { expectProblem, startTestShop, type TestShop } from '../support/shop.js';
import { silentLogger } from '../support/testDatabase.js';

/** A Redis the tests may use; `.ci/run` sets it when the machine's Redis answers. */
const redisUrl = process.env.TEST_REDIS_URL;

describe('Rate limits', () => {
  describe('kept in the process', () => {
    let shop: TestShop;

    before(async () => {
      shop = await startTestShop({ RATE_LIMIT_PER_MINUTE: '3' });
    });

    after(async () => {
      await shop.stop();
    });

    it('answers 429 with Retry-After past a client’s budget, and keeps the operations endpoints open', async () => {
      for (let request = 0; request < 3; request += 1) {
        const response = await shop.call(`/api/v1/products/${randomUUID()}`);
        expect(response.status).to.equal(404);
        expect(response.headers.get('ratelimit-policy')).to.match(/^"3-in-1min"; q=3; w=60/);
      }
      const limited = await shop.call(`/api/v1/products/${randomUUID()}`);
      const problem = await expectProblem(limited, 429);
      expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
      expect(problem.detail).to.match(/^at most 3 requests a minute from one client/);
      expect((await shop.call('/health/live')).status).to.equal(200);
      expect((await shop.call('/openapi.json')).status).to.equal(200);
    });
  });

  describe('kept in Redis', () => {
    if (!redisUrl) {
      it('lets the instances of one shop share a budget (skipped: TEST_REDIS_URL is not set)');
      return;
    }
    let first: TestShop;
    let second: RunningShop;
    let secondDataDir: string;

    before(async () => {
      const env = { REDIS_URL: redisUrl, RATE_LIMIT_PER_MINUTE: '4' };
      first = await startTestShop(env);
      secondDataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-second-'));
      second = await startShop(
        loadConfig({
          NODE_ENV: 'test',
          PORT: '0',
          DATA_DIR: secondDataDir,
          DATABASE_URL: first.connectionString,
          LOG_LEVEL: 'silent',
          ...env,
        }),
        silentLogger,
      );
    });

    after(async () => {
      await second.stop();
      await first.stop();
      await rm(secondDataDir, { recursive: true, force: true });
    });

    it('lets the instances of one shop share a budget', async () => {
      const callSecond = (): Promise<Response> =>
        fetch(`http://127.0.0.1:${second.port}/api/v1/products/${randomUUID()}`);
      expect((await first.call(`/api/v1/products/${randomUUID()}`)).status).to.equal(404);
      expect((await callSecond()).status).to.equal(404);
      expect((await first.call(`/api/v1/products/${randomUUID()}`)).status).to.equal(404);
      expect((await callSecond()).status).to.equal(404);

      await expectProblem(await callSecond(), 429);
      await expectProblem(await first.call(`/api/v1/products/${randomUUID()}`), 429);
    });

    it('refuses to start when REDIS_URL does not answer', async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-no-redis-'));
      try {
        const failure = await startShop(
          loadConfig({
            NODE_ENV: 'test',
            PORT: '0',
            DATA_DIR: dataDir,
            DATABASE_URL: first.connectionString,
            LOG_LEVEL: 'silent',
            REDIS_URL: 'redis://127.0.0.1:1',
          }),
          silentLogger,
        ).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure)
          .to.be.instanceOf(Error)
          .with.property('message')
          .that.matches(/^REDIS_URL does not answer/);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
});
