import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('..', import.meta.url));

export interface ShopSettings {
  databaseUrl: string;
  port: number;
  dataDir: string;
  logFile: string;
  orderTimeoutMs: number;
  paymentRetryDelayMs: number;
  logLevel: string;
}

/** Why the shop would not come up: it exited on its own, or never answered ready in time. */
export class ShopWouldNotStart extends Error {
  override readonly name = 'ShopWouldNotStart';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function readyAt(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * The shop as `npm start` runs it, in a process group of its own: SIGKILL goes to the whole group
 * (npm, and the node processes tsx starts under it), as a crash of the machine would take them.
 * Its output goes to one log file across every start, each start marked in it.
 */
export class ShopProcess {
  readonly base: string;
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private readonly log: number;
  /** Starts, kills on purpose and exits nobody asked for, so far. */
  starts = 0;
  kills = 0;
  unexpectedExits: { description: string; signalled: boolean }[] = [];

  constructor(private readonly settings: ShopSettings) {
    this.base = `http://127.0.0.1:${settings.port}`;
    this.log = openSync(settings.logFile, 'a');
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the shop and waits until it answers ready; throws ShopWouldNotStart otherwise. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.child) return;
    this.starts += 1;
    writeSync(this.log, `--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const { DATABASE_URL: _database, TEST_DATABASE_URL: _test, DATA_DIR: _data, ...inherited } = process.env;
    const child = spawn('npm', ['start', '--silent'], {
      cwd: repository,
      env: {
        ...inherited,
        NODE_ENV: 'development',
        DATABASE_URL: this.settings.databaseUrl,
        PORT: String(this.settings.port),
        HOST: '127.0.0.1',
        DATA_DIR: this.settings.dataDir,
        LOG_LEVEL: this.settings.logLevel,
        ORDER_TIMEOUT_MS: String(this.settings.orderTimeoutMs),
        PAYMENT_RETRY_DELAY_MS: String(this.settings.paymentRetryDelayMs),
      },
      stdio: ['ignore', this.log, this.log],
      detached: true,
    });
    this.child = child;
    const start = this.starts;
    let exitedOnItsOwn: string | undefined;
    this.exited = once(child, 'exit').then(([code, signal]) => {
      if (this.child === child) {
        // Nobody asked it to stop: a crash, or a refusal to start.
        exitedOnItsOwn = `start ${start} exited on its own (code ${String(code)}, signal ${String(signal)})`;
        // A stop asked by someone else (128 + the signal's number is how tsx and npm pass it on),
        // not a crash of the shop.
        const signalled =
          ['SIGTERM', 'SIGINT', 'SIGHUP'].includes(String(signal)) ||
          (typeof code === 'number' && [129, 130, 143].includes(code));
        this.unexpectedExits.push({ description: exitedOnItsOwn, signalled });
        this.child = undefined;
      }
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await readyAt(this.base))) {
      if (exitedOnItsOwn) throw new ShopWouldNotStart(`${exitedOnItsOwn}; see ${this.settings.logFile}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new ShopWouldNotStart(
          `not ready within ${timeoutMs} ms of start ${start}; see ${this.settings.logFile}`,
        );
      }
      await sleep(50);
    }
  }

  /** Settles when the shop now running exits, whoever ended it. */
  whenExited(): Promise<void> {
    return this.exited.then(() => undefined);
  }

  /** SIGKILL to the whole group, and waits until the shop is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.kills += 1;
    killGroup(child, 'SIGKILL');
    await this.exited;
    writeSync(this.log, `--- killed (SIGKILL) at ${new Date().toISOString()}\n`);
  }

  /** A clean stop (SIGTERM), SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    killGroup(child, 'SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped) {
      killGroup(child, 'SIGKILL');
      await this.exited;
    }
  }

  /** For process exit, when nothing can be awaited any more: nothing of the shop may outlive this run. */
  killNow(): void {
    if (this.child) killGroup(this.child, 'SIGKILL');
    this.child = undefined;
  }

  close(): void {
    closeSync(this.log);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Gone already.
  }
}
