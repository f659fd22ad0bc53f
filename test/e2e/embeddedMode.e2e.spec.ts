import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { expect } from 'chai';
import { createPool, postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { PostgresEventStore } from '../../src/infrastructure/eventstore/postgresEventStore.js';
import { freshStream, testEvent } from '../support/events.js';
import { silentLogger } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

interface RunningProcess {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  output: () => string;
}

/** `npm start`, as a newcomer runs it; signals go to npm, which must pass them on to the shop. */
function startShopProcess(env: Record<string, string>): RunningProcess {
  const { TEST_DATABASE_URL: _ignored, DATABASE_URL: _external, ...inherited } = process.env;
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...inherited, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let text = '';
  const collect = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const line of chunk.toString().split('\n')) {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return { child, logs, output: () => text };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

async function stop(running: RunningProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(running.child, 'exit');
  running.child.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

describe('The embedded mode (npm start without DATABASE_URL)', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-e2e-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startAndWaitUntilReady(
    port: number,
  ): Promise<{ running: RunningProcess; databaseUrl: string }> {
    const running = startShopProcess({ DATA_DIR: dataDir, PORT: String(port) });
    await waitFor(
      async () => (await status(`http://127.0.0.1:${port}/health/ready`)) === 200,
      60_000,
      () => running.output(),
    );
    const started = running.logs.find((line) => line.msg === 'embedded PostgreSQL started');
    const password = (await readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
    const databaseUrl = `postgres://postgres:${password}@127.0.0.1:${String(started?.port)}/shop`;
    return { running, databaseUrl };
  }

  async function withStore<T>(
    databaseUrl: string,
    work: (store: PostgresEventStore) => Promise<T>,
  ): Promise<T> {
    const pool = createPool(databaseUrl, silentLogger, 2);
    const store = new PostgresEventStore({
      pool,
      connection: postgresConnectionConfig(databaseUrl, 'shop-e2e'),
      logger: silentLogger,
    });
    try {
      return await work(store);
    } finally {
      await store.close();
      await pool.end();
    }
  }

  it('starts a real PostgreSQL in DATA_DIR, stops it on SIGTERM, and finds its events after a restart', async () => {
    const port = await freePort();
    const first = await startAndWaitUntilReady(port);
    expect(await status(`http://127.0.0.1:${port}/health/live`)).to.equal(200);
    const streamId = freshStream('order');
    const written = testEvent('OrderPlaced', { totalInCents: 4250 });
    await withStore(first.databaseUrl, (store) => store.append(streamId, [written], 'no_stream'));

    expect(await stop(first.running, 'SIGTERM')).to.equal(0);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')), 'PostgreSQL stopped too').to.equal(
      false,
    );
    expect(first.running.logs.map((line) => line.msg)).to.include('shop stopped');

    const second = await startAndWaitUntilReady(port);
    const [readBack] = await withStore(second.databaseUrl, (store) => store.readStream(streamId));
    expect(readBack).to.deep.include({ id: written.id, type: 'OrderPlaced', data: written.data });
    expect(second.running.logs.find((line) => line.msg === 'embedded PostgreSQL started')).to.include({
      firstStart: false,
    });
    expect(await stop(second.running, 'SIGINT')).to.equal(0);
  });

  it('refuses a second shop on a data directory in use, and leaves the first one serving', async () => {
    const port = await freePort();
    const first = await startAndWaitUntilReady(port);

    const second = startShopProcess({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    const [code] = (await once(second.child, 'exit')) as [number | null];

    expect(code).to.equal(1);
    expect(second.output()).to.match(/is in use by PostgreSQL \(pid \d+\) of another running process/);
    expect(await status(`http://127.0.0.1:${port}/health/ready`)).to.equal(200);
    expect(await stop(first.running, 'SIGTERM')).to.equal(0);
  });

  it('exports events from the running shop’s PostgreSQL, and starts one of its own when none runs', async () => {
    const port = await freePort();
    const running = await startAndWaitUntilReady(port);
    const streamId = freshStream('order');
    const written = testEvent('OrderPlaced', { totalInCents: 1999 });
    await withStore(running.databaseUrl, (store) => store.append(streamId, [written], 'no_stream'));
    const exportNow = async (): Promise<{ code: number; stdout: string }> => {
      const { TEST_DATABASE_URL: _test, DATABASE_URL: _external, ...inherited } = process.env;
      const child = spawn('npm', ['run', '-s', 'events:export', '--', '--from', '0'], {
        env: { ...inherited, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      return { code, stdout };
    };

    const whileRunning = await exportNow();
    expect(whileRunning.code).to.equal(0);
    expect(whileRunning.stdout).to.include(streamId);
    expect(await status(`http://127.0.0.1:${port}/health/ready`), 'the shop kept its database').to.equal(200);

    expect(await stop(running.running, 'SIGTERM')).to.equal(0);
    const afterwards = await exportNow();
    expect(afterwards.code).to.equal(0);
    expect(afterwards.stdout).to.equal(whileRunning.stdout);
    expect(
      existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')),
      'it stopped what it started',
    ).to.equal(false);
  });

  it('refuses to start on an invalid configuration, naming each variable at fault', async () => {
    const running = startShopProcess({ DATA_DIR: dataDir, PORT: 'eighty', EVENT_STORE: 'mysql' });
    const [code] = (await once(running.child, 'exit')) as [number | null];
    expect(code).to.equal(1);
    expect(running.output()).to.include('PORT').and.to.include('EVENT_STORE').and.to.include('"eighty"');
    expect(existsSync(path.join(dataDir, 'postgres')), 'nothing was started').to.equal(false);
  });
});
