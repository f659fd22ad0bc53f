import { EventStoreDbEventStore } from '../../src/infrastructure/eventstore/eventStoreDbEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

describe('EventStoreDbEventStore', () => {
  if (connectionString) {
    eventStoreContract(({ upcast }) => {
      const store = new EventStoreDbEventStore({ connectionString, ...(upcast ? { upcast } : {}) });
      return Promise.resolve({ store, close: () => store.close() });
    });
  } else {
    // A test without a body is reported as pending: EventStoreDB cannot run on every machine.
    it(
      'passes the event store contract (skipped: EVENTSTORE_CONNECTION_STRING is not set, so there is no server)',
    );
  }
});
