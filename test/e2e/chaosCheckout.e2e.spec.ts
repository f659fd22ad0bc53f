import { execFile } from 'node:child_process';
import { expect } from 'chai';
import pg from 'pg';
import { CHECK_NAMES } from '../../scripts/chaosChecks.js';

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s chaos:checkout -- <args>`, as an operator runs it. */
function runChaos(args: string[]): Promise<CommandResult> {
  const { TEST_DATABASE_URL: _test, DATABASE_URL: _database, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '-s', 'chaos:checkout', '--', ...args],
      { env: inherited, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function portAnswers(base: string): Promise<boolean> {
  try {
    await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

describe('npm run chaos:checkout', function () {
  this.timeout(600_000);
  it('places 60 orders while the shop is killed, finds every invariant held, and leaves nothing behind', async () => {
    // The server of the tests: the machine's, or the embedded one the fixture started.
    const server = process.env.TEST_DATABASE_URL as string;
    const result = await runChaos(['--orders', '60', '--customers', '6', '--server-url', server]);
    const output = `${result.stdout}${result.stderr}`;

    expect(result.code, output).to.equal(0);
    for (const name of CHECK_NAMES) expect(result.stdout, output).to.include(`ok    ${name}: `);
    expect(result.stdout).to.include('orders by outcome');
    expect(result.stdout).to.match(/placed: 60 of 60 orders/);
    expect(Number(/kills: (\d+)/.exec(result.stdout)?.[1]), 'the shop was killed').to.be.at.least(1);
    expect(result.stdout).to.match(/retries: \d+ requests sent again/);
    expect(result.stdout).to.include('chaos checkout passed');

    const shop = /shop: npm start on (\S+),/.exec(result.stdout)?.[1];
    expect(shop, 'the output names the shop').to.be.a('string');
    expect(await portAnswers(shop ?? ''), 'the shop ended with the run').to.equal(false);
    const database = /database: postgres:\/\/\S+\/(chaos_checkout_\w+) \(created/.exec(result.stdout)?.[1];
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      expect(rowCount, 'the database of a passing run is dropped').to.equal(0);
    } finally {
      await client.end();
    }
  });

  it('refuses a bad argument with exit code 2 and the usage, starting nothing', async () => {
    const result = await runChaos(['--orders', 'many']);

    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('--orders must be a whole number from 1 to 100000, not "many"');
    expect(result.stderr).to.include('usage: npm run -s chaos:checkout --');
    expect(result.stdout).to.equal('');
  });

  it('prints its usage on --help', async () => {
    const result = await runChaos(['--help']);

    expect(result.code).to.equal(0);
    expect(result.stdout).to.include('usage: npm run -s chaos:checkout --');
  });
});
