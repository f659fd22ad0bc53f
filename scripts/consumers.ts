import { commandLineArguments, parsedOrUsage, runShopTool, UsageError } from './commandLine.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { openShopCore, type ShopCore } from '../src/infrastructure/container.js';
import { createLogger } from '../src/infrastructure/logger.js';
import { consumerLag, LAG_COUNT_LIMIT, retryParked } from '../src/projections/subscriptionRunner.js';

const USAGE = `usage: npm run -s consumers -- list
       npm run -s consumers -- retry-parked <name>
list: each consumer of the event stream with its checkpoint, the events it has still to handle,
      its parked events and the instance that runs it.
retry-parked: handles a consumer's parked events again, in order, once their cause is fixed;
      exits 1 if some stream's events fail again (they stay parked).`;

type Request = { command: 'list' } | { command: 'retry-parked'; name: string };

function parse(): Request {
  const { positionals } = commandLineArguments({ options: {}, strict: true, allowPositionals: true });
  const [command, ...rest] = positionals;
  if (command === 'list' && rest.length === 0) return { command };
  if (command === 'retry-parked' && rest.length === 1 && rest[0]) return { command, name: rest[0] };
  throw new UsageError(
    command === undefined ? 'a command is required' : `cannot run: ${positionals.join(' ')}`,
  );
}

async function list(core: ShopCore): Promise<number> {
  const rows = await Promise.all(
    core.consumers.map(async (consumer) => {
      const status = await core.consumerStore.status(consumer.name);
      const { eventsBehind } = await consumerLag(consumer, core.consumerStore, core.eventSource);
      return [
        consumer.name,
        String(status.checkpoint),
        eventsBehind >= LAG_COUNT_LIMIT ? `${LAG_COUNT_LIMIT}+` : String(eventsBehind),
        String(status.parked),
        status.activeInstance ?? 'none',
      ];
    }),
  );
  const table = [['name', 'checkpoint', 'behind', 'parked', 'active instance'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) {
    process.stdout.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
  return 0;
}

async function retry(core: ShopCore, name: string): Promise<number> {
  const consumer = core.consumers.find((candidate) => candidate.name === name);
  if (!consumer) {
    process.stderr.write(
      `no consumer is named ${name}: ${core.consumers.map((known) => known.name).join(', ')}\n`,
    );
    return 2;
  }
  const outcome = await retryParked(consumer, core.consumerStore, core.eventSource);
  process.stdout.write(`${name}: ${outcome.retried} parked events handled and unparked\n`);
  for (const failure of outcome.failed) {
    process.stdout.write(`${name}: ${failure.streamId} failed again and stays parked: ${failure.error}\n`);
  }
  return outcome.failed.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const request = parsedOrUsage(parse, USAGE);
  if (!request) return 2;
  const config = loadConfig();
  const core = await openShopCore(config, createLogger(config.LOG_LEVEL, 'stderr'));
  try {
    return request.command === 'list' ? await list(core) : await retry(core, request.name);
  } finally {
    await core.close();
  }
}

runShopTool(main, 'consumers');
