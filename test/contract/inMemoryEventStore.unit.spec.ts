import { InMemoryEventStore } from '../../src/eventstore/inMemoryEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';

describe('InMemoryEventStore', () => {
  eventStoreContract(({ upcast }) => {
    const store = new InMemoryEventStore(upcast ? { upcast } : {});
    return Promise.resolve({ store, close: () => store.close() });
  });
});
