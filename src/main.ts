import 'reflect-metadata';
import { InvalidConfiguration, loadConfig } from './infrastructure/config.js';
import { createLogger } from './infrastructure/logger.js';
import { startShop } from './infrastructure/container.js';

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
  if (error instanceof InvalidConfiguration) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `the shop could not start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
