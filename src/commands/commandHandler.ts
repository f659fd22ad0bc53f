import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { fold } from '../domain/shared/decider.js';
import { CURRENT_SCHEMA_VERSION, type ShopEvent } from '../domain/shopEvents.js';
import type { EventMetadata, EventToAppend, JsonObject } from '../eventstore/eventStore.js';
import { DuplicateEventId, WrongExpectedVersion } from '../eventstore/errors.js';
import type { Aggregate } from './aggregates.js';
import type { EventStreams } from './eventStreams.js';
import type { StoredEvent } from './storedEvents.js';

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

export interface CommandRequest<Command, State = unknown> {
  /** The aggregate's id: its stream is `aggregate.streamId(id)`. */
  id: string;
  command: Command;
  context: CommandContext;
  /** From `If-Match`: the command only applies to this revision of the stream. */
  ifMatch?: number | undefined;
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
  eventId?: (event: ShopEvent, index: number) => string;
  /**
   * The stream as the caller read it a moment ago: the first decision is taken on it instead of
   * reading again. Only its events are trusted, by the revision they are appended at; a decision
   * on it that appends nothing, or refuses, is taken again on a fresh read, as it may be stale.
   */
  known?: LoadedState<State> | undefined;
}

export interface Loaded<State, Event extends ShopEvent> {
  state: State;
  /** The stream's revision; -1 if it still has no events. */
  revision: number;
  /** The global position of the stream's last event. */
  position: number | undefined;
  events: StoredEvent<Event>[];
}

export interface Handled<State, Event extends ShopEvent> {
  state: State;
  /** The stream's revision after the command; -1 if it still has no events. */
  revision: number;
  /** The global position of the stream's last event, appended by this command or before it. */
  position: number | undefined;
  /** The events this command appended. */
  events: Event[];
}

/** The metadata every event a command appends carries, from the context it was given. */
export function eventMetadata(context: CommandContext): EventMetadata {
  return {
    actor: context.actor,
    correlationId: context.correlationId,
    causationId: context.causationId,
    schemaVersion: CURRENT_SCHEMA_VERSION,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  };
}

const MAX_ATTEMPTS = 10;

/** Writers that lost a race spread out before trying again, so they do not collide once more. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(attempt, 6)));
}

export type LoadedState<State> = Omit<Loaded<State, never>, 'events'>;

/** How many folded states one process keeps, the least recently used given up first. */
const FOLDED_STATES_KEPT = 10_000;

/** Folded states of the aggregates that allow it, per event store, by stream. */
const foldedStates = new WeakMap<EventStreams, LRUCache<string, LoadedState<unknown>>>();

function keep(streams: EventStreams, streamId: string, loaded: LoadedState<unknown>): void {
  let kept = foldedStates.get(streams);
  if (!kept) {
    kept = new LRUCache<string, LoadedState<unknown>>({ max: FOLDED_STATES_KEPT });
    foldedStates.set(streams, kept);
  }
  const earlier = kept.peek(streamId);
  // Two loads racing: the one that read further stands.
  if (earlier && earlier.revision > loaded.revision) return;
  kept.set(streamId, loaded);
}

/** The folded state kept for a stream, looked at without moving it up: only keeping one does. */
const keptState = <State>(streams: EventStreams, streamId: string): LoadedState<State> | undefined =>
  foldedStates.get(streams)?.peek(streamId) as LoadedState<State> | undefined;

/**
 * The global position of the stream's last event as this process last read or wrote it, while it
 * keeps the aggregate's folded state; undefined when it keeps none.
 */
export function keptPosition<Command, Event extends ShopEvent, State>(
  streams: EventStreams,
  aggregate: Aggregate<Command, Event, State>,
  id: string,
): number | undefined {
  return keptState(streams, aggregate.streamId(id))?.position;
}

/**
 * An aggregate's current state, without its events. Where the aggregate allows it, the state
 * folded last time is moved on by the events recorded since, which it always reads: another
 * process may have written them.
 */
export async function loadState<Command, Event extends ShopEvent, State>(
  streams: EventStreams,
  aggregate: Aggregate<Command, Event, State>,
  id: string,
): Promise<LoadedState<State>> {
  if (!aggregate.keepFoldedState) {
    const { state, revision, position } = await load(streams, aggregate, id);
    return { state, revision, position };
  }
  const streamId = aggregate.streamId(id);
  const known = keptState<State>(streams, streamId);
  const since = await streams.read(streamId, known ? known.revision + 1 : undefined);
  const events = since.events.map(({ event }) => event as Event);
  const loaded: LoadedState<State> =
    events.length === 0 && known
      ? known
      : {
          state: events.reduce(aggregate.decider.evolve, known?.state ?? aggregate.decider.initialState),
          revision: since.revision,
          position: since.position,
        };
  keep(streams, streamId, loaded);
  return loaded;
}

/** An aggregate's current state, folded from its stream. */
export async function load<Command, Event extends ShopEvent, State>(
  streams: EventStreams,
  aggregate: Aggregate<Command, Event, State>,
  id: string,
): Promise<Loaded<State, Event>> {
  const { events, revision, position } = await streams.read(aggregate.streamId(id));
  // Decoding checked that each event belongs in this stream's category: they are this aggregate's.
  const own = events as StoredEvent<Event>[];
  return {
    state: fold(
      aggregate.decider,
      own.map(({ event }) => event),
    ),
    revision,
    position,
    events: own,
  };
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
export function handle<Command, Event extends ShopEvent, State>(
  streams: EventStreams,
  aggregate: Aggregate<Command, Event, State>,
  request: CommandRequest<Command, State>,
): Promise<Handled<State, Event>> {
  return inTurn(aggregate.streamId(request.id), () => decideAndAppend(streams, aggregate, request));
}

/**
 * The state a decision starts from: the caller's, or else the one this process folded last, where
 * the aggregate keeps it (neither read again: the append's expected revision checks them); a fresh
 * read otherwise, and whenever `fresh` is asked for.
 */
function startingState<Command, Event extends ShopEvent, State>(
  streams: EventStreams,
  aggregate: Aggregate<Command, Event, State>,
  request: CommandRequest<Command, State>,
  fresh: boolean,
): { loaded: LoadedState<State> | Promise<LoadedState<State>>; unchecked: boolean } {
  const known =
    request.known ??
    (aggregate.keepFoldedState ? keptState<State>(streams, aggregate.streamId(request.id)) : undefined);
  // A revision the caller pinned is compared with the stream as it is, never as it was.
  if (fresh || known === undefined || request.ifMatch !== undefined) {
    return { loaded: loadState(streams, aggregate, request.id), unchecked: false };
  }
  return { loaded: known, unchecked: true };
}

async function decideAndAppend<Command, Event extends ShopEvent, State>(
  streams: EventStreams,
  aggregate: Aggregate<Command, Event, State>,
  request: CommandRequest<Command, State>,
): Promise<Handled<State, Event>> {
  const { decider } = aggregate;
  const streamId = aggregate.streamId(request.id);
  const { context, ifMatch } = request;
  let fresh = false;
  for (let attempt = 1; ; attempt += 1) {
    const start = startingState(streams, aggregate, request, fresh);
    const { state, revision, position } = await start.loaded;
    if (ifMatch !== undefined && ifMatch !== revision) throw new RevisionMismatch(ifMatch, revision);
    let decided: Event[];
    try {
      decided = decider.decide(request.command, state);
    } catch (error) {
      if (!start.unchecked) throw error;
      fresh = true;
      continue;
    }
    if (decided.length === 0) {
      if (!start.unchecked) return { state, revision, position, events: [] };
      fresh = true;
      continue;
    }
    const data = await streams.encode(decided);
    const toAppend = decided.map((event, index): EventToAppend => ({
      id: request.eventId?.(event, index) ?? randomUUID(),
      type: event.type,
      data: data[index] as JsonObject,
      metadata: eventMetadata(context),
    }));
    try {
      const appended = await streams.store.append(
        streamId,
        toAppend,
        revision === -1 ? 'no_stream' : revision,
      );
      const written = {
        state: decided.reduce(decider.evolve, state),
        revision: appended.revision,
        position: appended.position,
      };
      if (aggregate.keepFoldedState) keep(streams, streamId, written);
      return { ...written, events: decided };
    } catch (error) {
      if (error instanceof DuplicateEventId && request.eventId) {
        // Appended before: what is answered is the stream as it is, read for it.
        if (start.unchecked) {
          fresh = true;
          continue;
        }
        return { state, revision, position, events: [] };
      }
      if (!(error instanceof WrongExpectedVersion)) throw error;
      if (ifMatch !== undefined) throw new RevisionMismatch(ifMatch, error.actual);
      // What lost was a state not read for this command: it decides again on a fresh read.
      if (start.unchecked) {
        fresh = true;
        continue;
      }
      if (!request.retryOnConflict || attempt >= MAX_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}
