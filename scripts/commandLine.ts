import { parseArgs, type ParseArgsConfig } from 'node:util';

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
