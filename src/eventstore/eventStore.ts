/** A JSON value as stored in an event: what survives JSON.stringify and JSON.parse unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface EventMetadata {
  /** The request or process that this event is part of; shared by every event it causes. */
  correlationId: string;
  /** The id of the command or event that directly caused this one. */
  causationId: string;
  /** A JWT `sub`, or `system:<component>` for events the system raises itself. */
  actor: string;
  /** The version of the event's data schema; older versions are upcast on read. */
  schemaVersion: number;
  [key: string]: JsonValue;
}

export interface EventToAppend {
  /** A UUID chosen by the writer: appending the same id again at the same place writes nothing. */
  id: string;
  type: string;
  data: JsonObject;
  metadata: EventMetadata;
}

export interface RecordedEvent extends EventToAppend {
  streamId: string;
  revision: number;
  /** Strictly increasing in the order subscribers receive events; not contiguous. */
  position: number;
  recordedAt: Date;
  hash: string;
  previousHash: string;
}

/**
 * `no_stream`: the stream must not exist yet; `stream_exists`: it must have at least one event;
 * `any`: no check; a number: the revision of the stream's last event.
 */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

export interface AppendResult {
  /** The revision of the last event written: the expected revision for the next append. */
  revision: number;
  /** The global position of the last event written. */
  position: number;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive; defaults to the first event (forwards) or the last one (backwards). */
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Inclusive. Position 0 means the beginning. */
  fromPosition: number;
  maxCount: number;
  /** The stream prefix before the first dash: `order` selects `order-<id>` streams. */
  category?: string;
}

export interface SubscribeToAllOptions {
  /** Inclusive. A projector resumes from its checkpoint + 1. */
  fromPosition: number;
  category?: string;
  /** Ends the subscription: the iterator finishes after the event being handled. */
  signal?: AbortSignal;
}

export interface StreamVerification {
  streamId: string;
  verified: boolean;
  eventCount: number;
  /** The first revision whose stored hash or link does not match what its content hashes to. */
  brokenAtRevision?: number;
}

export interface DeliveryStall {
  /** How long committed events have been held back behind a transaction still open; 0 when none are. */
  stalledForMs: number;
}

/**
 * The event store port. Every adapter passes the suite in `test/contract/eventStore.contract.ts`.
 */
export interface EventStore {
  /** Appends atomically, or throws `WrongExpectedVersion` and writes nothing. */
  append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult>;
  /** An empty array when the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catches up from `fromPosition`, then delivers live events; never skips nor repeats one. */
  subscribeToAll(options: SubscribeToAllOptions): AsyncIterable<RecordedEvent>;
  /** The position of the newest event a reader can see now, 0 for an empty store. */
  headPosition(): Promise<number>;
  /** Recomputes the stream's hash chain from what is stored. */
  verifyStream(streamId: string): Promise<StreamVerification>;
  deliveryStall(): DeliveryStall;
  close(): Promise<void>;
}
