import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import {
  RebuildInProgress,
  rebuildProjections,
} from '../../src/infrastructure/postgres/projectionRebuild.js';
import { type Projection, PROJECTIONS } from '../../src/projections/projections.js';
import { appendShopEvents, openRunnerProcess, type RunnerProcess } from '../support/runnerFixture.js';
import { appendRandomShop, dumpReadModels } from '../support/randomShop.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const AT = '2026-03-01T10:00:00.000Z';

describe('Rebuilding read models', () => {
  let database: TestDatabase;
  let shop: RunnerProcess;

  before(async () => {
    database = await createTestDatabase();
    shop = openRunnerProcess(database.connectionString);
    await appendRandomShop(shop, 3000);
    for (const projection of PROJECTIONS) shop.runner(projection.projector(projection.schema)).start();
    await caughtUp();
  });

  after(async () => {
    await shop.close();
    await database.drop();
  });

  const caughtUp = async (): Promise<void> => {
    const head = await shop.store.headPosition();
    for (const { name } of PROJECTIONS) {
      await waitFor(
        async () => (await shop.consumers.checkpoint(name)) >= head,
        20_000,
        () => `${name} behind`,
      );
    }
  };

  const dump = () => dumpReadModels(shop.pool);

  const rebuild = (...projections: Projection[]) =>
    rebuildProjections({ pool: shop.pool, source: shop.source, projections });

  /** Each served table's indexes, by what they index: a rebuild names them anew. */
  const indexes = async (): Promise<unknown[]> =>
    (
      await shop.pool.query<{ schemaname: string; tablename: string; definition: string }>(
        `SELECT schemaname, tablename, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') AS definition
           FROM pg_indexes WHERE schemaname IN ('catalog', 'orders', 'sales') ORDER BY 1, 2, 3`,
      )
    ).rows;

  it('ends in the tables of the live projectors, row for row, with their indexes', async () => {
    const live = await dump();
    const indexed = await indexes();
    expect(indexed).to.have.length.above(10);
    expect(live['catalog.products']).to.have.length.above(50);
    expect(live['sales.daily']).to.have.length.above(0);
    await rebuild(...PROJECTIONS);
    expect(await dump()).to.deep.equal(live);
    for (const projection of PROJECTIONS) await rebuild(projection);
    expect(await dump()).to.deep.equal(live);
    expect(await indexes()).to.deep.equal(indexed);
  });

  it('lets readers read the whole catalog throughout, and the live projector go on after it', async () => {
    const { rows } = await shop.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM catalog.products',
    );
    const products = rows[0]?.count ?? 0;
    const seen: number[] = [];
    const failures: unknown[] = [];
    let rebuilding = true;
    const reader = (async () => {
      while (rebuilding) {
        await shop.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM catalog.products').then(
          (result) => seen.push(result.rows[0]?.count ?? -1),
          (error: unknown) => failures.push(error),
        );
      }
    })();
    try {
      await rebuild(PROJECTIONS.find((projection) => projection.name === 'catalog') as Projection);
    } finally {
      rebuilding = false;
      await reader;
    }
    expect(failures).to.deep.equal([]);
    expect(seen.length).to.be.above(0);
    expect(new Set(seen)).to.deep.equal(new Set([products]));

    // The live projector writes into the swapped-in tables.
    const productId = randomUUID();
    await appendShopEvents(shop, productId, {
      type: 'ProductCreated',
      data: {
        productId,
        name: 'After the swap',
        description: null,
        priceCents: 100,
        categoryId: null,
        imageUrl: null,
        createdAt: AT,
      },
    });
    await caughtUp();
    const { rows: after } = await shop.pool.query('SELECT name FROM catalog.products WHERE id = $1', [
      productId,
    ]);
    expect(after).to.deep.equal([{ name: 'After the swap' }]);
  });

  it('announces the checkpoint of each read model it swapped in, so that no instance keeps answers of the old tables', async () => {
    const listener = new pg.Client({ connectionString: database.connectionString });
    await listener.connect();
    const heard: { consumer: string; position: number }[] = [];
    listener.on('notification', (message) => {
      heard.push(JSON.parse(message.payload ?? '{}') as { consumer: string; position: number });
    });
    try {
      await listener.query('LISTEN consumer_checkpoints');
      const done = await rebuild(...PROJECTIONS);
      const announced = PROJECTIONS.map(({ name }) => ({ consumer: name, position: done.position }));
      await waitFor(
        async () =>
          announced.every((expected) =>
            heard.some((told) => told.consumer === expected.consumer && told.position === expected.position),
          ),
        10_000,
        () => `heard ${JSON.stringify(heard)}`,
      );
    } finally {
      await listener.end();
    }
  });

  it('leaves the served tables untouched when it fails midway, and a second run starts clean', async () => {
    const catalog = PROJECTIONS.find((projection) => projection.name === 'catalog') as Projection;
    const before = await dump();
    let batches = 0;
    const failing: Projection = {
      ...catalog,
      projector: (schema) => {
        const projector = catalog.projector(schema);
        return {
          ...projector,
          handle: async (events, tx) => {
            if ((batches += 1) === 2) throw new Error('the machine went down');
            await projector.handle(events, tx);
          },
        };
      },
    };
    const failed = await rebuild(failing).catch((error: unknown) => error);
    expect((failed as Error).message).to.equal('the machine went down');
    expect(await dump()).to.deep.equal(before);
    await rebuild(catalog);
    expect(await dump()).to.deep.equal(before);
    const { rows } = await shop.pool.query(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%' ORDER BY nspname",
    );
    expect(rows).to.deep.equal([{ nspname: 'catalog' }]);
  });

  it('refuses to run beside another rebuild of the same database', async () => {
    const other = await shop.pool.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtextextended('shop-rebuild', 0))`);
      const refused = await rebuild(...PROJECTIONS).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(RebuildInProgress);
    } finally {
      await other.query(`SELECT pg_advisory_unlock(hashtextextended('shop-rebuild', 0))`);
      other.release();
    }
  });

  describe('npm run replay', () => {
    const replay = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          'npm',
          ['run', '-s', 'replay', '--', ...args],
          { env: { ...process.env, DATABASE_URL: database.connectionString, LOG_LEVEL: 'warn' } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });

    it('rebuilds the read model named, telling how far it got, and leaves the tables as they were', async () => {
      const before = await dump();
      const { code, stdout, stderr } = await replay(['--projection', 'orders']);
      expect(code, stderr).to.equal(0);
      expect(stdout).to.match(
        /^orders: rebuilt from \d+ events in [\d.]+ s \(\d+ events\/s\), swapped in at position \d+\n$/,
      );
      expect(await dump()).to.deep.equal(before);
    });

    it('refuses an unknown read model and an unknown option with exit code 2 and its usage', async () => {
      for (const args of [['--projection', 'nope'], ['--everything']]) {
        const { code, stderr } = await replay(args);
        expect(code).to.equal(2);
        expect(stderr).to.include('usage: npm run -s replay -- [--projection NAME]');
      }
    });
  });
});
