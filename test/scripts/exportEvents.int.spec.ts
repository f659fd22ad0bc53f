import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { PostgresEventStore } from '../../src/infrastructure/eventstore/postgresEventStore.js';
import { createPool, postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { freshStream, testEvents } from '../support/events.js';
import { parseNdjson } from '../support/ndjson.js';
import { orderKettles, startTestShop, type TestShop } from '../support/shop.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/testDatabase.js';

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s events:export -- <args>` on the database of `databaseUrl`. */
function runExport(
  args: string[],
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return run('npm', ['run', '-s', 'events:export', '--', ...args], databaseUrl, env);
}

function run(
  command: string,
  args: string[],
  databaseUrl: string,
  env: Record<string, string>,
): Promise<CommandResult> {
  const { TEST_DATABASE_URL: _test, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: { ...inherited, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const lines = (ndjson: string) =>
  parseNdjson<{ position: number; streamId: string; type: string; recordedAt: string }>(ndjson);

describe('npm run events:export', () => {
  let shop: TestShop;
  let analyst: string;

  before(async () => {
    shop = await startTestShop();
    analyst = await shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']);
    const admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    await orderKettles(shop, { admin, shopper }, 2);
    await shop.checkoutsSettled();
  });

  after(async () => {
    await shop.stop();
  });

  const viaHttp = async (query: string): Promise<string> =>
    (await shop.call(`/api/v1/events${query}`, { token: analyst })).text();

  it('writes what GET /api/v1/events answers, line for line', async () => {
    const result = await runExport(['--from', '0'], shop.connectionString);

    expect(result.code, result.stderr).to.equal(0);
    expect(lines(result.stdout)).to.have.length(await shop.eventCount());
    expect(result.stdout).to.equal(await viaHttp('?limit=10000'));
  });

  it('starts at --from and keeps to --category', async () => {
    const all = lines((await runExport(['--from', '0'], shop.connectionString)).stdout);
    const from = all[2]?.position ?? 0;
    const result = await runExport(['--from', String(from), '--category', 'order'], shop.connectionString);

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(await viaHttp(`?fromPosition=${from}&category=order`));
    expect(lines(result.stdout).map((event) => event.type)).to.deep.equal(['OrderPlaced', 'OrderConfirmed']);
  });

  it('keeps only the events recorded until --until', async () => {
    const all = lines((await runExport(['--from', '0'], shop.connectionString)).stdout);
    const until = all[1]?.recordedAt ?? '';
    const result = await runExport(['--from', '0', '--until', until], shop.connectionString);

    const expected = all.filter((event) => event.recordedAt <= until);
    expect(lines(result.stdout)).to.deep.equal(expected);
    expect(expected.length).to.be.within(2, all.length - 1);
  });

  const refusals: { name: string; args: string[]; says: RegExp }[] = [
    { name: 'no --from', args: ['--category', 'order'], says: /--from is required/ },
    { name: 'a negative --from', args: ['--from=-1'], says: /--from is required/ },
    {
      name: 'an unknown --category',
      args: ['--from', '0', '--category', 'orders'],
      says: /--category must be one of/,
    },
    {
      name: 'an --until without offset',
      args: ['--from', '0', '--until', '2026-03-01T10:00:00'],
      says: /--until must be/,
    },
    { name: 'an unknown option', args: ['--from', '0', '--to', '5'], says: /Unknown option '--to'/ },
  ];
  for (const { name, args, says } of refusals) {
    it(`refuses ${name} with exit code 2 and the usage, writing nothing`, async () => {
      const result = await runExport(args, shop.connectionString);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(says).and.to.include('usage: npm run -s events:export');
      expect(result.stdout).to.equal('');
    });
  }

  it('refuses to run against EventStoreDB, pointing to the endpoint', async () => {
    const result = await runExport(['--from', '0'], shop.connectionString, {
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113?tls=false',
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('EVENT_STORE=eventstoredb').and.to.include('GET /api/v1/events');
    expect(result.stdout).to.equal('');
  });

  it('fails with exit code 1 and says why when the database does not answer', async () => {
    const result = await runExport(['--from', '0'], 'postgres://postgres@127.0.0.1:1/shop');
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^no export: .*ECONNREFUSED/m);
    expect(result.stdout).to.equal('');
  });
});

describe('npm run events:export into a reader that stops early', () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
    const pool = createPool(database.connectionString, silentLogger, 2);
    const store = new PostgresEventStore({
      pool,
      connection: postgresConnectionConfig(database.connectionString, 'shop-export-test'),
      logger: silentLogger,
    });
    try {
      // Far more than a pipe holds, so that the export is still writing when the reader goes.
      for (let page = 0; page < 2; page += 1)
        await store.append(freshStream(), testEvents(1000), 'no_stream');
    } finally {
      await store.close();
      await pool.end();
    }
  });

  after(async () => {
    await database.drop();
  });

  it('ends quietly with exit code 0 when stdout closes (| head), logging in the shop’s format', async () => {
    const result = await run(
      'bash',
      ['-o', 'pipefail', '-c', 'npm run -s events:export -- --from 0 | head -n 3'],
      database.connectionString,
      { LOG_LEVEL: 'debug' },
    );

    expect(result.code, result.stderr).to.equal(0);
    expect(lines(result.stdout)).to.have.length(3);
    expect(result.stderr).to.not.include('EPIPE');
    const logs = parseNdjson<Record<string, unknown>>(result.stderr);
    expect(
      logs.map((line) => line.msg),
      'it closed what it opened',
    ).to.include('postgres event store closed');
    for (const line of logs) {
      expect(line).to.include({ service: 'shop' }).and.to.not.have.any.keys('pid', 'hostname');
      expect(line.time)
        .to.be.a('string')
        .and.to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });
});
