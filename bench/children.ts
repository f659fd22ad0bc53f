import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchDatabase } from './database.js';

/** The children a bench starts: the shop and what it is compared with, each a process of its own. */

const REQUEST_TIMEOUT_MS = 10_000;
const CHILD_READY_TIMEOUT_MS = 60_000;

const repository = path.resolve(import.meta.dirname, '..');

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** Keep-alive HTTP/1.1 with node:http: a lighter load generator than fetch on a machine it shares. */
export class HttpClient {
  // Idle sockets close before the servers' 5 s keep-alive timeout can close them under a request.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024, timeout: 4000 });

  constructor(private readonly port: number) {}

  send(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          headers: {
            ...options.headers,
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(payload ? { 'content-type': 'application/json' } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: Record<string, unknown>;
            try {
              body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              body = { text };
            }
            resolve({ status: response.statusCode ?? 0, body });
          });
          response.on('error', reject);
        },
      );
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('no answer within 10 s')));
      request.on('error', reject);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Children started by the bench, killed however it ends: by a throw, a signal or process.exit. */
export const children = new Set<ChildProcess>();
export const killChildren = (): void => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};

export interface Child {
  process: ChildProcess;
  /** The last lines it wrote, to show when it fails. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A Node child on tsx with an IPC channel; `exitWithParent` makes it end when that channel closes,
 * so that not even a bench killed with SIGKILL leaves it running.
 */
export function startChild(name: string, args: string[], env: Record<string, string>): Child {
  const exitWithParent = `data:text/javascript,process.on('disconnect',()=>process.kill(process.pid,'SIGTERM'))`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', exitWithParent, ...args], {
    cwd: repository,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    process: child,
    output: () => `${name}'s last output:\n${lines.join('\n')}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const killLater = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killLater);
      }
      children.delete(child);
    },
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export async function untilReady(child: Child, port: number): Promise<void> {
  const client = new HttpClient(port);
  const deadline = Date.now() + CHILD_READY_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (child.process.exitCode !== null) throw new Error(`it exited with ${child.process.exitCode}`);
      const answer = await client.send('GET', '/health/ready').catch(() => undefined);
      if (answer?.status === 200) return;
      await sleep(100);
    }
    throw new Error('not ready within 60 s');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${child.output()}`, { cause: error });
  } finally {
    client.close();
  }
}

export async function startShop(
  database: BenchDatabase,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  const child = startChild('the shop', ['src/main.ts'], {
    DATABASE_URL: database.connectionString,
    DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...env,
  });
  await untilReady(child, port);
  return { child, port };
}

/**
 * A child that listens on a port of its choosing and sends it over IPC once it does (the CRUD
 * baseline, the bare express server), ready when its `/health/ready` answers.
 */
export async function startReportingChild(
  name: string,
  script: string,
  env: Record<string, string>,
): Promise<{ child: Child; port: number }> {
  const child = startChild(name, [script], { ...env, PORT: '0' });
  const [message] = (await Promise.race([
    once(child.process, 'message'),
    once(child.process, 'exit').then(() => {
      throw new Error(`${name} exited\n${child.output()}`);
    }),
  ])) as [{ port: number }];
  await untilReady(child, message.port);
  return { child, port: message.port };
}
