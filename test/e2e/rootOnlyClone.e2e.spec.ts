import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { waitFor } from '../support/waitFor.js';

const execFileAsync = promisify(execFile);
const repository = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The project as a fresh clone in a directory that only root may enter, like one under /root or
 * `mktemp -d`: its tracked files, and node_modules linked file by file (copied across file systems).
 */
async function cloneInRootOnlyDirectory(): Promise<{ parent: string; project: string }> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'shop-root-only-'));
  expect((await stat(parent)).mode & 0o777).to.equal(0o700);
  const project = path.join(parent, 'shop');
  const { stdout } = await execFileAsync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: repository, maxBuffer: 16 * 1024 * 1024 },
  );
  for (const file of stdout.split('\0').filter((name) => name && existsSync(path.join(repository, name)))) {
    await mkdir(path.dirname(path.join(project, file)), { recursive: true });
    await copyFile(path.join(repository, file), path.join(project, file));
  }
  const modules = path.join(repository, 'node_modules');
  await execFileAsync('cp', ['-al', modules, project]).catch(() =>
    execFileAsync('cp', ['-a', modules, project]),
  );
  return { parent, project };
}

interface Run {
  child: ChildProcess;
  output: () => string;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>): Run {
  const { TEST_DATABASE_URL: _test, DATABASE_URL: _external, DATA_DIR: _data, ...inherited } = process.env;
  const child = spawn(command, args, {
    cwd,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

async function exitCode(running: Run): Promise<number | null> {
  if (running.child.exitCode !== null) return running.child.exitCode;
  const [code] = (await once(running.child, 'exit')) as [number | null];
  return code;
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200;
  } catch {
    return false;
  }
}

interface LogLine {
  msg?: unknown;
  port?: unknown;
  firstStart?: unknown;
}

/** The complete JSON lines of `output`: the last one may still be on its way. */
const logLines = (output: string): LogLine[] =>
  output
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

describe('The embedded PostgreSQL, run as root from a clone only root may enter', function () {
  if (process.getuid?.() !== 0) {
    it('starts and gives its reasons (skipped: not run as root, so the server runs as this user)');
    return;
  }

  let parent: string;
  let project: string;

  before(async () => {
    ({ parent, project } = await cloneInRootOnlyDirectory());
  });

  after(async () => {
    // A cluster the postgres user could not keep in the clone lives outside it, linked from there.
    const cluster = await readlink(path.join(project, '.data', 'postgres')).catch(() => undefined);
    if (cluster !== undefined) await rm(path.dirname(cluster), { recursive: true, force: true });
    await rm(parent, { recursive: true, force: true });
  });

  it('npm start serves on its ./.data, and finds the same cluster after a restart', async () => {
    const startOnce = async (): Promise<LogLine[]> => {
      const shop = run('npm', ['start', '--silent'], project, { PORT: '0', LOG_LEVEL: 'info' });
      const listening = (): LogLine | undefined =>
        logLines(shop.output()).find((line) => line.msg === 'shop listening');
      await waitFor(
        async () =>
          shop.child.exitCode !== null ||
          (listening() !== undefined && (await ready(Number(listening()?.port)))),
        60_000,
        () => shop.output(),
      );
      expect(shop.child.exitCode, shop.output()).to.equal(null);
      shop.child.kill('SIGTERM');
      expect(await exitCode(shop), shop.output()).to.equal(0);
      return logLines(shop.output());
    };

    const first = await startOnce();
    expect(first.find((line) => line.msg === 'embedded PostgreSQL started')).to.include({ firstStart: true });
    const second = await startOnce();
    expect(second.find((line) => line.msg === 'embedded PostgreSQL started')).to.include({
      firstStart: false,
    });
  });

  it('the integration tests start their embedded PostgreSQL, with TEST_DATABASE_URL unset', async () => {
    const probe = path.join('test', 'rootOnlyProbe.int.spec.ts');
    await writeFile(
      path.join(project, probe),
      [
        "import pg from 'pg';",
        "it('answers a query', async () => {",
        '  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });',
        '  await client.connect();',
        "  await client.query('SELECT 1');",
        '  await client.end();',
        '});',
        '',
      ].join('\n'),
    );
    // The int tier's fixture, as .mocharc.int.json requires it, around this one test alone.
    const tests = run(
      'npx',
      [
        'mocha',
        '--node-option',
        'import=tsx',
        '--require',
        'test/support/postgresFixture.ts',
        '--exit',
        probe,
      ],
      project,
      {},
    );
    const code = await exitCode(tests);
    expect(code, tests.output()).to.equal(0);
    expect(tests.output()).to.include('1 passing');
  });

  it('refuses in one line a cluster that the postgres user cannot reach, saying what to do', async () => {
    const stranded = path.join(parent, 'stranded');
    await mkdir(path.join(stranded, 'postgres'), { recursive: true });
    await writeFile(path.join(stranded, 'postgres', 'PG_VERSION'), '18\n');

    const shop = run('npm', ['start', '--silent'], project, { DATA_DIR: stranded, PORT: '0' });

    expect(await exitCode(shop)).to.equal(1);
    const lines = shop.output().trim().split('\n');
    expect(lines, shop.output()).to.have.length(1);
    expect(lines[0]).to.include('cannot reach its cluster in').and.to.include('DATA_DIR');
  });
});
