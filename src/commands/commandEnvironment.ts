import type { EventStreams } from './eventStreams.js';

/** What every command module works with: the shop's streams, its clock and its settings. */
export interface CommandEnvironment {
  streams: EventStreams;
  now: () => Date;
  /** A cart not changed for this long expires. */
  cartTtlMs: number;
  /** A pending order not completed by then is cancelled as expired. */
  orderTimeoutMs: number;
}

/** The outcome of a command, as its caller answers it: the stream's revision and last position. */
export interface Written {
  revision: number;
  position: number | undefined;
}
