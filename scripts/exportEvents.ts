import { commandLineArguments, parsedOrUsage, runShopTool, UsageError } from './commandLine.js';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { exportedLine, STREAM_CATEGORIES } from '../src/api/events/events.routes.js';
import { parseInstant, parseWholeNumber } from '../src/api/http.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { createLogger } from '../src/infrastructure/logger.js';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgresEventStore.js';
import { EventCodec } from '../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../src/infrastructure/personalData/personalDataVault.js';
import { createPool, postgresConnectionConfig } from '../src/infrastructure/postgres/database.js';
import {
  runningEmbeddedPostgres,
  startEmbeddedPostgres,
} from '../src/infrastructure/postgres/embeddedPostgres.js';
import { migrate } from '../src/infrastructure/postgres/migrate.js';

const USAGE = `usage: npm run -s events:export -- --from <position> [--category <${STREAM_CATEGORIES.join('|')}>] [--until <ISO 8601>]
Writes the events from <position> on (inclusive) to stdout as NDJSON, one a line in global order,
as GET /api/v1/events answers them; --until keeps those recorded up to that instant.`;
const PAGE = 1000;

interface ExportRequest {
  from: number;
  category?: string;
  until?: Date;
}

function parse(): ExportRequest {
  const { values } = commandLineArguments({
    options: { from: { type: 'string' }, category: { type: 'string' }, until: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const from = values.from === undefined ? undefined : parseWholeNumber(values.from);
  if (from === undefined) throw new UsageError('--from is required: a position, a whole number');
  const { category, until } = values;
  if (category !== undefined && !(STREAM_CATEGORIES as readonly string[]).includes(category)) {
    throw new UsageError(`--category must be one of ${STREAM_CATEGORIES.join(', ')}`);
  }
  const instant = until === undefined ? undefined : parseInstant(until);
  if (until !== undefined && !instant) {
    throw new UsageError(
      '--until must be an ISO 8601 date and time with an offset, e.g. 2026-03-01T10:00:00Z',
    );
  }
  return { from, ...(category ? { category } : {}), ...(instant ? { until: instant } : {}) };
}

/**
 * The shop's database: DATABASE_URL's, or the embedded server a running shop keeps in DATA_DIR, or,
 * when none runs, the embedded server started here for the export and stopped after it.
 */
async function openDatabase(config: ReturnType<typeof loadConfig>, logger: Logger) {
  const connectionString = config.DATABASE_URL ?? (await runningEmbeddedPostgres(config.DATA_DIR));
  if (connectionString) return { connectionString, stop: () => Promise.resolve() };
  const embedded = await startEmbeddedPostgres(config.DATA_DIR, logger);
  await migrate(embedded.connectionString, logger);
  return embedded;
}

/** Writing the export failed; when the reader closed its end, as `head` does once it has its lines, the export is over. */
class StdoutFailed extends Error {
  readonly readerGone: boolean;
  constructor(cause: NodeJS.ErrnoException) {
    super(`stdout: ${cause.message}`, { cause });
    this.readerGone = cause.code === 'EPIPE';
  }
}

// stdout reports a failed write as an event, after the write: kept here for the next one to throw.
let stdoutError: NodeJS.ErrnoException | undefined;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  stdoutError ??= error;
});

async function write(line: string): Promise<void> {
  if (stdoutError) throw new StdoutFailed(stdoutError);
  if (process.stdout.write(line)) return;
  await once(process.stdout, 'drain').catch((error: NodeJS.ErrnoException) => {
    throw new StdoutFailed(error);
  });
}

/** Resolves once everything written has left, rejecting when a write failed. */
async function flushed(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    process.stdout.write('', (error) => (error ? reject(new StdoutFailed(error)) : resolve())),
  );
  if (stdoutError) throw new StdoutFailed(stdoutError);
}

async function main(): Promise<number> {
  const request = parsedOrUsage(parse, USAGE);
  if (!request) return 2;
  const config = loadConfig();
  if (config.EVENT_STORE !== 'postgres') {
    process.stderr.write(
      `EVENT_STORE=${config.EVENT_STORE}: this command reads the PostgreSQL event store; ` +
        'export through GET /api/v1/events instead\n',
    );
    return 1;
  }
  // Logs go to stderr: stdout carries the export.
  const logger = createLogger(config.LOG_LEVEL, 'stderr');
  const database = await openDatabase(config, logger);
  const pool = createPool(database.connectionString, logger, 2);
  const store = new PostgresEventStore({
    pool,
    connection: postgresConnectionConfig(database.connectionString, 'shop-export'),
    logger,
  });
  const codec = new EventCodec(store, new PersonalDataVault(pool));
  try {
    let fromPosition = request.from;
    for (;;) {
      const page = await codec.readAll({
        fromPosition,
        maxCount: PAGE,
        ...(request.category ? { category: request.category } : {}),
      });
      for (const event of page) {
        if (request.until && event.recordedAt > request.until) continue;
        await write(exportedLine(event));
      }
      const last = page.at(-1);
      if (!last || page.length < PAGE) break;
      fromPosition = last.position + 1;
    }
    await flushed();
    return 0;
  } catch (error) {
    if (error instanceof StdoutFailed && error.readerGone) return 0;
    throw error;
  } finally {
    await store.close();
    await pool.end();
    await database.stop();
  }
}

runShopTool(main, 'no export');
