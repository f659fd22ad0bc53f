import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type CommandBus,
  type CommandContext,
  handle,
  RevisionMismatch,
} from '../../src/commands/commandHandler.js';
import type { Decider } from '../../src/domain/shared/decider.js';
import { RuleViolation } from '../../src/domain/shared/errors.js';
import { InMemoryEventStore } from '../../src/eventstore/inMemoryEventStore.js';
import { WrongExpectedVersion } from '../../src/eventstore/errors.js';
import type { JsonObject } from '../../src/eventstore/eventStore.js';

type CounterEvent = { type: 'Incremented'; data: { by: number } };
type CounterCommand = { type: 'Increment'; by: number; max: number };

/** A counter that refuses to pass `max`: enough rules to exercise the handler. */
const counter: Decider<CounterCommand, CounterEvent, number> = {
  initialState: 0,
  evolve: (total, event) => total + event.data.by,
  decide: (command, total) => {
    if (command.by === 0) return [];
    if (total + command.by > command.max) throw new RuleViolation(`the counter stops at ${command.max}`);
    return [{ type: 'Incremented', data: { by: command.by } }];
  },
};

function busOver(store: InMemoryEventStore): CommandBus {
  return {
    store,
    read: async (streamId) => {
      const events = await store.readStream(streamId);
      return {
        events: events.map(({ type, data }) => ({ type, data })),
        revision: events.at(-1)?.revision ?? -1,
        position: events.at(-1)?.position,
      };
    },
    write: async (_streamId, events) => events.map((event) => event.data as JsonObject),
  };
}

const context: CommandContext = {
  actor: 'shopper',
  correlationId: randomUUID(),
  causationId: randomUUID(),
  requestId: 'req-42',
};

describe('The command handler', () => {
  let store: InMemoryEventStore;
  let bus: CommandBus;
  let streamId: string;

  beforeEach(() => {
    store = new InMemoryEventStore();
    bus = busOver(store);
    streamId = `counter-${randomUUID()}`;
  });

  describe('when the decider emits events', () => {
    it('appends them with the request’s metadata and answers the new state, revision and position', async () => {
      const handled = await handle(bus, counter, streamId, { type: 'Increment', by: 2, max: 10 }, context);
      const [stored] = await store.readStream(streamId);
      expect(handled).to.deep.include({ state: 2, revision: 0, position: stored?.position });
      expect(stored?.metadata).to.deep.equal({
        actor: 'shopper',
        correlationId: context.correlationId,
        causationId: context.causationId,
        requestId: 'req-42',
        schemaVersion: 1,
      });
    });
  });

  describe('when the decider emits nothing', () => {
    it('appends nothing and answers no position for a stream still empty', async () => {
      const handled = await handle(bus, counter, streamId, { type: 'Increment', by: 0, max: 10 }, context);
      expect(handled).to.deep.include({ revision: -1, position: undefined, events: [] });
      expect(await store.readStream(streamId)).to.deep.equal([]);
    });
  });

  describe('when the decider refuses', () => {
    it('passes the domain error on and appends nothing', async () => {
      await handle(bus, counter, streamId, { type: 'Increment', by: 9, max: 10 }, context);
      const refused = handle(bus, counter, streamId, { type: 'Increment', by: 2, max: 10 }, context);
      const error = await refused.catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(RuleViolation);
      expect(await store.readStream(streamId)).to.have.length(1);
    });
  });

  describe('with If-Match', () => {
    it('refuses a stale revision with RevisionMismatch and appends nothing', async () => {
      await handle(bus, counter, streamId, { type: 'Increment', by: 1, max: 10 }, context);
      const error = await handle(bus, counter, streamId, { type: 'Increment', by: 1, max: 10 }, context, {
        ifMatch: 5,
      }).catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(RevisionMismatch).and.to.include({ expected: 5, actual: 0 });
      expect(await store.readStream(streamId)).to.have.length(1);
    });

    it('applies the command at the revision it names', async () => {
      await handle(bus, counter, streamId, { type: 'Increment', by: 1, max: 10 }, context);
      const handled = await handle(bus, counter, streamId, { type: 'Increment', by: 1, max: 10 }, context, {
        ifMatch: 0,
      });
      expect(handled.revision).to.equal(1);
    });
  });

  describe('under concurrency', () => {
    it('lands all of 20 concurrent commands on one stream, taking turns', async () => {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          handle(bus, counter, streamId, { type: 'Increment', by: 1, max: 100 }, context),
        ),
      );
      expect(await store.readStream(streamId)).to.have.length(20);
    });

    /** A bus where another process appends to the stream right after the handler's first read. */
    function racedByAnotherProcess(): CommandBus {
      let raced = false;
      return {
        ...bus,
        read: async (id) => {
          const read = await bus.read(id);
          if (!raced) {
            raced = true;
            await store.append(
              id,
              [
                {
                  id: randomUUID(),
                  type: 'Incremented',
                  data: { by: 5 },
                  metadata: { ...context, schemaVersion: 1 },
                },
              ],
              'any',
            );
          }
          return read;
        },
      };
    }

    it('decides again on a fresh read after losing a race, when that is safe', async () => {
      const handled = await handle(
        racedByAnotherProcess(),
        counter,
        streamId,
        { type: 'Increment', by: 1, max: 100 },
        context,
        { retryOnConflict: true },
      );
      expect(handled).to.deep.include({ state: 6, revision: 1 });
    });

    it('reports the lost race when re-deciding is not safe, appending nothing', async () => {
      const error = await handle(
        racedByAnotherProcess(),
        counter,
        streamId,
        { type: 'Increment', by: 1, max: 100 },
        context,
      ).catch((failure: unknown) => failure);
      expect(error).to.be.instanceOf(WrongExpectedVersion);
      expect(await store.readStream(streamId)).to.have.length(1);
    });
  });

  describe('with event ids derived from the command', () => {
    it('appends nothing new when the same command is delivered again', async () => {
      const eventId = (): string => '7d3c0c44-2b5e-4f53-9a5e-3f8a2c1b0d11';
      const command: CounterCommand = { type: 'Increment', by: 1, max: 10 };
      const first = await handle(bus, counter, streamId, command, context, { eventId });
      const again = await handle(bus, counter, streamId, command, context, { eventId });
      expect(first.events).to.have.length(1);
      expect(again).to.deep.include({ events: [], position: first.position, state: 1 });
      expect(await store.readStream(streamId)).to.have.length(1);
    });
  });
});
