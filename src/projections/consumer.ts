import type { StoredEvent } from '../commands/storedEvents.js';
import type { RecordedEvent } from '../eventstore/eventStore.js';

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number | null;
}

/** One SQL statement in the transaction a consumer's effects share with its checkpoint. */
export type SqlQuery = <Row extends object = Record<string, unknown>>(
  text: string,
  values?: readonly unknown[],
) => Promise<QueryResult<Row>>;

export interface ConsumerTransaction {
  query: SqlQuery;
  /** Runs `callback` once the transaction has committed; never if it rolls back. */
  afterCommit(callback: () => void): void;
}

/**
 * A handler of the event stream on the subscription runner: the checkout completer, the saga, each
 * projector, the Kafka forwarder. Its Postgres effects commit with its checkpoint or not at all.
 */
export interface Consumer {
  /** Names its checkpoint, its lock and its parked events: a renamed consumer starts from scratch. */
  name: string;
  /** Only events of this stream category reach it; every event when left out. */
  category?: string;
  /**
   * The most events handed over in one transaction, where the runner's default is too many: a
   * consumer that sends commands for each event commits its progress more often with fewer.
   */
  maxBatchSize?: number;
  /**
   * Whether the consumer has anything to do with an event, told from what the store holds; every
   * event is wanted when left out. Batches with no wanted event take no transaction: the
   * checkpoint moves past them with the next batch that has one, or on its own a little later.
   * Answer false only for events the consumer would ignore whatever they hold.
   */
  wants?(event: Pick<RecordedEvent, 'id' | 'streamId' | 'type'>): boolean;
  /**
   * Whether it takes events with their personal fields as stored, sealed with their customer's key,
   * instead of opened: a read model that keeps them so is erased with its customer, and opens them
   * when it serves them.
   */
  keepsPersonalDataSealed?: boolean;
  /**
   * Handles events in order, in one transaction with the checkpoint that moves past them: pages
   * while catching up, then what has arrived when live. Throwing rolls the whole batch back.
   */
  handle(events: readonly StoredEvent[], transaction: ConsumerTransaction): Promise<void>;
}
