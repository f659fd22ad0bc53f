import { commandLineArguments, parsedOrUsage, runShopTool, UsageError } from './commandLine.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { openShopCore } from '../src/infrastructure/container.js';
import { createLogger } from '../src/infrastructure/logger.js';
import type { RebuildProgress } from '../src/infrastructure/postgres/projectionRebuild.js';
import { type Projection, PROJECTIONS } from '../src/projections/projections.js';

const NAMES = PROJECTIONS.map((projection) => projection.name);

const USAGE = `usage: npm run -s replay -- [--projection NAME]
Rebuilds read models from the first event into copies of their tables while the shop keeps serving
the old ones, reading the store once, then swaps the copies in, in one transaction. Every read
model unless --projection names one: ${NAMES.join(', ')}.`;

/** How often a plain line of progress is written where no terminal shows a bar. */
const PLAIN_EVERY_MS = 2_000;
const BAR_WIDTH = 30;

function parse(): Projection[] {
  const { values } = commandLineArguments({
    options: { projection: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.projection === undefined) return [...PROJECTIONS];
  const named = PROJECTIONS.find((projection) => projection.name === values.projection);
  if (!named) throw new UsageError(`no read model is named ${values.projection}`);
  return [named];
}

const seconds = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))} s`;

/** Progress as a bar redrawn in place on a terminal, a line every few seconds elsewhere. */
function progressReporter(name: string, total: number | undefined): (progress: RebuildProgress) => void {
  const started = Date.now();
  let lastPlain = started;
  const terminal = process.stderr.isTTY;
  return ({ events }) => {
    const now = Date.now();
    const rate = events / Math.max((now - started) / 1000, 0.001);
    const share = total ? Math.min(events / total, 1) : undefined;
    const eta = total ? ` ETA ${seconds(((total - events) / Math.max(rate, 1)) * 1000)}` : '';
    const counted = `${events}${total ? ` of ${total}` : ''} events, ${Math.round(rate)} events/s${eta}`;
    if (terminal) {
      const filled = Math.round((share ?? 0) * BAR_WIDTH);
      const bar = share === undefined ? '' : `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] `;
      process.stderr.write(`\r${name}: ${bar}${counted}\u001b[K`);
    } else if (now - lastPlain >= PLAIN_EVERY_MS) {
      lastPlain = now;
      process.stderr.write(`${name}: ${counted}\n`);
    }
  };
}

async function main(): Promise<number> {
  const projections = parsedOrUsage(parse, USAGE);
  if (!projections) return 2;
  const config = loadConfig();
  const core = await openShopCore(config, createLogger(config.LOG_LEVEL, 'stderr'));
  try {
    const names = projections.map((projection) => projection.name).join(', ');
    const started = Date.now();
    const total = await core.eventCount();
    const rebuilt = await core.rebuild(projections, { onProgress: progressReporter(names, total) });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const elapsed = (Date.now() - started) / 1000;
    process.stdout.write(
      `${names}: rebuilt from ${rebuilt.events} events in ${elapsed.toFixed(1)} s ` +
        `(${Math.round(rebuilt.events / Math.max(elapsed, 0.001))} events/s), swapped in at position ${rebuilt.position}\n`,
    );
    return 0;
  } finally {
    await core.close();
  }
}

runShopTool(main, 'replay');
