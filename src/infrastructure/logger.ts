import pino, { type DestinationStream, type Logger } from 'pino';

/** The shop's log format; a command-line tool whose stdout is its answer logs to stderr. */
export function createLogger(level: string, destination?: 'stderr'): Logger {
  const options = { level, base: { service: 'shop' }, timestamp: pino.stdTimeFunctions.isoTime };
  const stream: DestinationStream | undefined =
    destination === 'stderr' ? pino.destination({ dest: 2, sync: true }) : undefined;
  return stream ? pino(options, stream) : pino(options);
}
