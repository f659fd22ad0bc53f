import { randomUUID } from 'node:crypto';
import type { Decider, DomainEvent } from '../domain/shared/decider.js';
import { fold } from '../domain/shared/decider.js';
import type { EventStore, EventToAppend, JsonObject } from '../eventstore/eventStore.js';
import { DuplicateEventId, WrongExpectedVersion } from '../eventstore/errors.js';

/** Who and what caused a command: becomes the metadata of every event it appends. */
export interface CommandContext {
  /** A JWT `sub`, or `system:<component>`. */
  actor: string;
  correlationId: string;
  causationId: string;
  requestId?: string;
}

/** The caller's `If-Match` named a revision the stream is no longer at. */
export class RevisionMismatch extends Error {
  override readonly name = 'RevisionMismatch';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`expected revision ${expected}, the resource is at ${actual}`);
  }
}

export interface HandleOptions {
  /** From `If-Match`: the command only applies to this revision of the stream. */
  ifMatch?: number;
  /**
   * Whether to decide again on a fresh read after losing a race with another writer. Safe only
   * where the command means the same whatever happened in between (adding to a cart is; a
   * command that checked what the caller saw is not, and uses `ifMatch`).
   */
  retryOnConflict?: boolean;
  /**
   * Event ids derived from the command make a redelivered command append nothing new: its events
   * are found already stored, and it answers as a command that changed nothing.
   */
  eventId?: (event: DomainEvent, index: number) => string;
}

export interface Handled<State, Event extends DomainEvent> {
  state: State;
  /** The stream's revision after the command; -1 if it still has no events. */
  revision: number;
  /** The global position of the stream's last event, appended by this command or before it. */
  position: number | undefined;
  events: Event[];
}

/** Reads what the stream holds, as domain events (personal data already decrypted by `read`). */
export type StreamReader = (
  streamId: string,
) => Promise<{ events: DomainEvent[]; revision: number; position: number | undefined }>;

/** Turns domain events into what is stored (personal data encrypted by `write`). */
export type EventWriter = (streamId: string, events: readonly DomainEvent[]) => Promise<JsonObject[]>;

export interface CommandBus {
  store: EventStore;
  read: StreamReader;
  write: EventWriter;
}

const MAX_ATTEMPTS = 10;

/** Writers that lost a race spread out before trying again, so they do not collide once more. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(attempt, 6)));
}

export interface Loaded<State> {
  state: State;
  revision: number;
  position: number | undefined;
}

/** An aggregate's current state, folded from its stream. */
export async function load<Command, Event extends DomainEvent, State>(
  bus: CommandBus,
  decider: Decider<Command, Event, State>,
  streamId: string,
): Promise<Loaded<State>> {
  const { events, revision, position } = await bus.read(streamId);
  // A stream holds one aggregate's events only, so they are this decider's events.
  return { state: fold(decider, events as Event[]), revision, position };
}

/**
 * Commands on one stream take turns within this process: run side by side, all but one would lose
 * the race and decide again, and a hot stream (one customer's cart) would exhaust their retries.
 * Writers in other processes are still settled by the expected revision.
 */
const streamTurns = new Map<string, Promise<unknown>>();

async function inTurn<T>(streamId: string, work: () => Promise<T>): Promise<T> {
  const previous = streamTurns.get(streamId) ?? Promise.resolve();
  const current = previous.then(work);
  const settled = current.catch(() => undefined);
  streamTurns.set(streamId, settled);
  try {
    return await current;
  } finally {
    if (streamTurns.get(streamId) === settled) streamTurns.delete(streamId);
  }
}

/** Read the stream, fold it, decide, append at the revision read; the same for every aggregate. */
export function handle<Command, Event extends DomainEvent, State>(
  bus: CommandBus,
  decider: Decider<Command, Event, State>,
  streamId: string,
  command: Command,
  context: CommandContext,
  options: HandleOptions = {},
): Promise<Handled<State, Event>> {
  return inTurn(streamId, () => decideAndAppend(bus, decider, streamId, command, context, options));
}

async function decideAndAppend<Command, Event extends DomainEvent, State>(
  bus: CommandBus,
  decider: Decider<Command, Event, State>,
  streamId: string,
  command: Command,
  context: CommandContext,
  options: HandleOptions,
): Promise<Handled<State, Event>> {
  for (let attempt = 1; ; attempt += 1) {
    const { state, revision, position } = await load(bus, decider, streamId);
    if (options.ifMatch !== undefined && options.ifMatch !== revision) {
      throw new RevisionMismatch(options.ifMatch, revision);
    }
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, revision, position, events: [] };
    const data = await bus.write(streamId, decided);
    const toAppend = decided.map((event, index): EventToAppend => ({
      id: options.eventId?.(event, index) ?? randomUUID(),
      type: event.type,
      data: data[index] as JsonObject,
      metadata: {
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: context.causationId,
        schemaVersion: 1,
        ...(context.requestId ? { requestId: context.requestId } : {}),
      },
    }));
    try {
      const appended = await bus.store.append(streamId, toAppend, revision === -1 ? 'no_stream' : revision);
      return {
        state: decided.reduce(decider.evolve, state),
        revision: appended.revision,
        position: appended.position,
        events: decided,
      };
    } catch (error) {
      if (error instanceof DuplicateEventId && options.eventId) {
        return { state, revision, position, events: [] };
      }
      if (!(error instanceof WrongExpectedVersion)) throw error;
      if (options.ifMatch !== undefined) throw new RevisionMismatch(options.ifMatch, error.actual);
      if (!options.retryOnConflict || attempt >= MAX_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}
