import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { EventStore, EventToAppend, RecordedEvent } from '../../src/eventstore/eventStore.js';
import {
  DuplicateEventId,
  InvalidEventStoreRequest,
  WrongExpectedVersion,
} from '../../src/eventstore/errors.js';
import { canonicalEvent, chainHash, GENESIS_HASH } from '../../src/eventstore/hashChain.js';
import { upcasterChain } from '../../src/eventstore/upcasting.js';
import type { Upcast } from '../../src/eventstore/upcasting.js';
import { collectUntil, freshCategory, freshStream, testEvent, testEvents } from '../support/events.js';

export interface ContractSubject {
  store: EventStore;
  close(): Promise<void>;
}

export type SubjectFactory = (options: { upcast?: Upcast }) => Promise<ContractSubject>;

async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The semantics every event store adapter keeps; see ARCHITECTURE.md, "The event store port". */
export function eventStoreContract(createSubject: SubjectFactory): void {
  let subject: ContractSubject;
  let store: EventStore;
  const subscriptions: AbortController[] = [];

  before(async () => {
    subject = await createSubject({
      upcast: upcasterChain([
        {
          eventType: 'PriceSet',
          fromSchemaVersion: 1,
          upcast: (data) => ({ amountInCents: Math.round(Number(data.amount) * 100) }),
        },
        { eventType: 'PriceSet', fromSchemaVersion: 2, upcast: (data) => ({ ...data, currency: 'EUR' }) },
      ]),
    });
    store = subject.store;
  });

  afterEach(() => {
    for (const controller of subscriptions.splice(0)) controller.abort();
  });

  after(async () => {
    await subject.close();
  });

  function subscribe(fromPosition: number, category?: string): AsyncIterable<RecordedEvent> {
    const controller = new AbortController();
    subscriptions.push(controller);
    return store.subscribeToAll({
      fromPosition,
      signal: controller.signal,
      ...(category ? { category } : {}),
    });
  }

  describe('appending', () => {
    it('starts a new stream at revision 0 and returns the position of what it wrote', async () => {
      const streamId = freshStream();
      const result = await store.append(streamId, [testEvent()], 'no_stream');
      const [stored] = await store.readStream(streamId);
      expect(result.revision).to.equal(0);
      expect(stored?.position).to.equal(result.position);
      expect(result.position).to.be.greaterThan(0);
    });

    it('appends several events atomically, at consecutive revisions and increasing positions', async () => {
      const streamId = freshStream();
      await store.append(streamId, [testEvent()], 'no_stream');
      const result = await store.append(streamId, testEvents(3), 0);
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.revision)).to.deep.equal([0, 1, 2, 3]);
      expect(result).to.deep.equal({ revision: 3, position: stored[3]?.position });
      const positions = stored.map((event) => event.position);
      expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
      expect(new Set(positions).size).to.equal(4);
    });

    it('gives later appends higher global positions, across streams', async () => {
      const first = await store.append(freshStream(), [testEvent()], 'no_stream');
      const second = await store.append(freshStream(), [testEvent()], 'no_stream');
      const third = await store.append(freshStream(), testEvents(2), 'any');
      expect(second.position).to.be.greaterThan(first.position);
      expect(third.position).to.be.greaterThan(second.position);
    });

    it('refuses a stale expected revision with WrongExpectedVersion and writes nothing', async () => {
      const streamId = freshStream();
      await store.append(streamId, testEvents(2), 'no_stream');
      const error = await rejection(store.append(streamId, testEvents(3), 0));
      expect(error).to.be.instanceOf(WrongExpectedVersion);
      expect(error).to.include({ streamId, expected: 0, actual: 1 });
      expect(await store.readStream(streamId)).to.have.length(2);
    });

    it('refuses no_stream when the stream exists, and stream_exists when it does not', async () => {
      const existing = freshStream();
      await store.append(existing, [testEvent()], 'no_stream');
      const missing = freshStream();
      expect(await rejection(store.append(existing, [testEvent()], 'no_stream'))).to.be.instanceOf(
        WrongExpectedVersion,
      );
      const error = await rejection(store.append(missing, [testEvent()], 'stream_exists'));
      expect(error).to.be.instanceOf(WrongExpectedVersion).and.to.include({ actual: -1 });
      expect(await store.readStream(missing)).to.deep.equal([]);
    });

    it('appends with stream_exists to an existing stream and with any to either', async () => {
      const streamId = freshStream();
      await store.append(streamId, [testEvent()], 'any');
      await store.append(streamId, [testEvent()], 'stream_exists');
      const result = await store.append(streamId, [testEvent()], 'any');
      expect(result.revision).to.equal(2);
    });

    it('treats the same events appended again at the same place as already done', async () => {
      const streamId = freshStream();
      const events = testEvents(3);
      const first = await store.append(streamId, events, 'no_stream');
      expect(await store.append(streamId, events, 'no_stream')).to.deep.equal(first);
      expect(await store.append(streamId, events, 'any')).to.deep.equal(first);
      await store.append(streamId, [testEvent()], 2);
      expect(await store.append(streamId, events, 'no_stream')).to.deep.equal(first);
      expect(await store.readStream(streamId)).to.have.length(4);
    });

    it('refuses an event id already stored earlier in the stream', async () => {
      const streamId = freshStream();
      const event = testEvent();
      await store.append(streamId, [event], 'no_stream');
      await store.append(streamId, [testEvent()], 0);
      const error = await rejection(store.append(streamId, [event], 1));
      expect(error).to.be.instanceOf(DuplicateEventId);
      expect(await store.readStream(streamId)).to.have.length(2);
    });

    it('lets exactly one of 50 concurrent appends with the same expected revision win', async () => {
      const streamId = freshStream();
      await store.append(streamId, [testEvent()], 'no_stream');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, () => store.append(streamId, [testEvent()], 0)),
      );
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
      );
      expect(won).to.have.length(1);
      expect(lost).to.have.length(49);
      for (const error of lost) expect(error).to.be.instanceOf(WrongExpectedVersion);
      expect(await store.readStream(streamId)).to.have.length(2);
    });

    it('lands every one of 20 concurrent appends with expected revision any', async () => {
      const streamId = freshStream();
      await Promise.all(Array.from({ length: 20 }, () => store.append(streamId, [testEvent()], 'any')));
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.revision)).to.deep.equal([...Array(20).keys()]);
    });
  });

  describe('refusing bad input, writing nothing', () => {
    const invalidStreamIds: unknown[] = [
      '',
      'order',
      '-123',
      'Order-1',
      'order-',
      '$all',
      'order 1',
      42,
      null,
    ];
    for (const streamId of invalidStreamIds) {
      it(`refuses the stream name ${JSON.stringify(streamId)}`, async () => {
        const error = await rejection(store.append(streamId as string, [testEvent()], 'any'));
        expect(error).to.be.instanceOf(InvalidEventStoreRequest).and.to.include({ field: 'streamId' });
      });
    }

    it('refuses an empty event list', async () => {
      const streamId = freshStream();
      const error = await rejection(store.append(streamId, [], 'any'));
      expect(error).to.be.instanceOf(InvalidEventStoreRequest).and.to.include({ field: 'events' });
    });

    const unserialisable: Record<string, unknown> = {
      'a function': () => 1,
      'a bigint': 10n,
      NaN: Number.NaN,
      Infinity: Number.POSITIVE_INFINITY,
      undefined: undefined,
      'a Date': new Date(),
      'a Map': new Map(),
      'a NUL character': 'a\u0000b',
      'a lone surrogate': '\ud800',
    };
    for (const [name, value] of Object.entries(unserialisable)) {
      it(`refuses data holding ${name}, and writes none of the batch`, async () => {
        const streamId = freshStream();
        const bad = { ...testEvent(), data: { nested: { value } } } as unknown as EventToAppend;
        const error = await rejection(store.append(streamId, [testEvent(), bad], 'any'));
        expect(error)
          .to.be.instanceOf(InvalidEventStoreRequest)
          .and.to.include({ field: 'events[1].data.nested.value' });
        expect(await store.readStream(streamId)).to.deep.equal([]);
      });
    }

    it('refuses circular data', async () => {
      const data: Record<string, unknown> = {};
      data.self = data;
      const bad = { ...testEvent(), data } as unknown as EventToAppend;
      expect(await rejection(store.append(freshStream(), [bad], 'any'))).to.be.instanceOf(
        InvalidEventStoreRequest,
      );
    });

    for (const expected of [-1, 1.5, Number.NaN, '3', 'latest', null]) {
      it(`refuses the expected revision ${typeof expected} ${String(expected)}`, async () => {
        const streamId = freshStream();
        const error = await rejection(store.append(streamId, [testEvent()], expected as number));
        expect(error)
          .to.be.instanceOf(InvalidEventStoreRequest)
          .and.to.include({ field: 'expectedRevision' });
        expect(await store.readStream(streamId)).to.deep.equal([]);
      });
    }

    it('refuses events without the required metadata, an event type that is not PascalCase, a bad id', async () => {
      const streamId = freshStream();
      const noActor = testEvent();
      const { actor: _actor, ...metadata } = noActor.metadata;
      const cases: [unknown, string][] = [
        [{ ...noActor, metadata }, 'events[0].metadata.actor'],
        [{ ...testEvent(), type: 'thing happened' }, 'events[0].type'],
        [{ ...testEvent(), id: 'not-a-uuid' }, 'events[0].id'],
        [
          { ...testEvent(), metadata: { ...noActor.metadata, schemaVersion: 0 } },
          'events[0].metadata.schemaVersion',
        ],
      ];
      for (const [event, field] of cases) {
        const error = await rejection(store.append(streamId, [event as EventToAppend], 'any'));
        expect(error).to.be.instanceOf(InvalidEventStoreRequest).and.to.include({ field });
      }
      expect(await store.readStream(streamId)).to.deep.equal([]);
    });

    it('refuses the same event id twice in one append', async () => {
      const event = testEvent();
      const error = await rejection(store.append(freshStream(), [event, event], 'any'));
      expect(error).to.be.instanceOf(InvalidEventStoreRequest).and.to.include({ field: 'events[1].id' });
    });

    it('refuses reads with a bad position, count or category', async () => {
      const bad: [Promise<unknown>, string][] = [
        [store.readAll({ fromPosition: -1, maxCount: 10 }), 'fromPosition'],
        [store.readAll({ fromPosition: 0, maxCount: 0 }), 'maxCount'],
        [store.readAll({ fromPosition: 0, maxCount: 10_001 }), 'maxCount'],
        [store.readAll({ fromPosition: 0, maxCount: 10, category: 'Order-' }), 'category'],
        [store.readStream('nope', {}), 'streamId'],
      ];
      for (const [read, field] of bad) {
        expect(await rejection(read))
          .to.be.instanceOf(InvalidEventStoreRequest)
          .and.to.include({ field });
      }
    });
  });

  describe('reading', () => {
    it('reads a stream forwards and backwards, from a revision, a limited number', async () => {
      const streamId = freshStream();
      await store.append(streamId, testEvents(5), 'no_stream');
      const revisions = async (options: Parameters<EventStore['readStream']>[1]): Promise<number[]> =>
        (await store.readStream(streamId, options)).map((event) => event.revision);
      expect(await revisions({})).to.deep.equal([0, 1, 2, 3, 4]);
      expect(await revisions({ fromRevision: 2, maxCount: 2 })).to.deep.equal([2, 3]);
      expect(await revisions({ direction: 'backwards' })).to.deep.equal([4, 3, 2, 1, 0]);
      expect(await revisions({ direction: 'backwards', fromRevision: 2, maxCount: 2 })).to.deep.equal([2, 1]);
    });

    it('reads an absent stream as empty', async () => {
      expect(await store.readStream(freshStream())).to.deep.equal([]);
    });

    it('keeps data and metadata exactly as written', async () => {
      const streamId = freshStream();
      const event = testEvent('ItemAdded', {
        text: 'naïve café ✓ 𝄞',
        escaped: 'a "quote", a back\\slash, a\nnew line, a\ttab, \u2028 and }],{"',
        nested: { list: [1, 2.5, -0.125, null, true], empty: {} },
        big: 9007199254740991,
      });
      event.metadata = { ...event.metadata, requestId: 'req-1' };
      await store.append(streamId, [event], 'no_stream');
      const [stored] = await store.readStream(streamId);
      expect(stored).to.deep.include({
        id: event.id,
        type: 'ItemAdded',
        data: event.data,
        metadata: event.metadata,
      });
      expect(stored?.streamId).to.equal(streamId);
      expect(stored?.recordedAt).to.be.instanceOf(Date);
    });

    it('reads all events from a position, in position order, by category', async () => {
      const category = freshCategory();
      const from = (await store.headPosition()) + 1;
      const streams = [freshStream(category), freshStream(category), freshStream()];
      for (const streamId of streams) await store.append(streamId, testEvents(2), 'no_stream');
      const ofCategory = await store.readAll({ fromPosition: from, maxCount: 100, category });
      expect(ofCategory.map((event) => event.streamId)).to.deep.equal([
        streams[0],
        streams[0],
        streams[1],
        streams[1],
      ]);
      const all = await store.readAll({ fromPosition: from, maxCount: 100 });
      expect(all.map((event) => event.streamId)).to.include.members(streams);
      const positions = all.map((event) => event.position);
      expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
      const second = ofCategory[1] as RecordedEvent;
      const page = await store.readAll({ fromPosition: second.position, maxCount: 2, category });
      expect(page.map((event) => event.id)).to.deep.equal([second.id, ofCategory[2]?.id]);
    });

    it('upcasts old schema versions on read, one version at a time', async () => {
      const streamId = freshStream();
      const old = testEvent('PriceSet', { amount: '12.34' });
      await store.append(streamId, [old], 'no_stream');
      const [read] = await store.readStream(streamId);
      expect(read?.data).to.deep.equal({ amountInCents: 1234, currency: 'EUR' });
      expect(read?.metadata.schemaVersion).to.equal(3);
    });
  });

  describe('subscribing to all events', () => {
    it('catches up on stored events, then delivers new ones live', async () => {
      const category = freshCategory();
      const streamId = freshStream(category);
      const earlier = await store.append(streamId, testEvents(3), 'no_stream');
      const subscription = subscribe(0, category);
      const caughtUp = await collectUntil(subscription, (received) => received.length === 3);
      expect(caughtUp.map((event) => event.revision)).to.deep.equal([0, 1, 2]);
      await store.append(streamId, testEvents(2), earlier.revision);
      const live = await collectUntil(subscription, (received) => received.length === 2);
      expect(live.map((event) => event.revision)).to.deep.equal([3, 4]);
    });

    it('starts at the given position, inclusive', async () => {
      const category = freshCategory();
      const streamId = freshStream(category);
      await store.append(streamId, testEvents(3), 'no_stream');
      const [, second] = await store.readStream(streamId);
      const received = await collectUntil(
        subscribe((second as RecordedEvent).position, category),
        (events) => events.length === 2,
      );
      expect(received.map((event) => event.revision)).to.deep.equal([1, 2]);
    });

    it('ends when its signal aborts', async () => {
      const controller = new AbortController();
      const iterator = store.subscribeToAll({
        fromPosition: 0,
        category: freshCategory(),
        signal: controller.signal,
      });
      const pending = iterator[Symbol.asyncIterator]().next();
      controller.abort();
      expect(await pending).to.deep.equal({ done: true, value: undefined });
    });
  });

  describe('the hash chain', () => {
    it('links each event to the one before by sha256(previousHash + canonical event)', async () => {
      const streamId = freshStream();
      await store.append(streamId, testEvents(2), 'no_stream');
      await store.append(streamId, [testEvent()], 1);
      const events = await store.readStream(streamId);
      let previousHash = GENESIS_HASH;
      for (const event of events) {
        expect(event.previousHash).to.equal(previousHash);
        const canonical = canonicalEvent({ ...event, recordedAt: event.recordedAt.toISOString() });
        expect(event.hash).to.equal(chainHash(previousHash, canonical));
        previousHash = event.hash;
      }
      expect(await store.verifyStream(streamId)).to.deep.equal({ streamId, verified: true, eventCount: 3 });
    });

    it('verifies an empty stream', async () => {
      const streamId = freshStream();
      expect(await store.verifyStream(streamId)).to.deep.equal({ streamId, verified: true, eventCount: 0 });
    });

    it('keeps per-append correlation metadata apart from the chain', async () => {
      const streamId = freshStream();
      const correlationId = randomUUID();
      const events = testEvents(2).map((event) => ({
        ...event,
        metadata: { ...event.metadata, correlationId },
      }));
      await store.append(streamId, events, 'no_stream');
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.metadata.correlationId)).to.deep.equal([
        correlationId,
        correlationId,
      ]);
    });
  });
}
