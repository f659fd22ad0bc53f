import 'reflect-metadata';
import { InvalidConfiguration, loadConfig } from './infrastructure/config.js';
import { createLogger } from './infrastructure/logger.js';
import { startShop } from './infrastructure/container.js';
import { DataDirectoryInUse } from './infrastructure/postgres/embeddedPostgres.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const shop = await startShop(config, logger);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    shop.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  // What the operator must fix is the whole message; a stack would only bury it.
  if (error instanceof InvalidConfiguration || error instanceof DataDirectoryInUse) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `the shop could not start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
