import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { decodeStoredEvent, storedEventDecoder, UndecodableEvent } from '../../src/commands/storedEvents.js';
import type { RecordedEvent } from '../../src/eventstore/eventStore.js';

function recorded(overrides: Partial<RecordedEvent> = {}): RecordedEvent {
  const productId = randomUUID();
  return {
    id: randomUUID(),
    streamId: `inventory-${productId}`,
    revision: 0,
    position: 42,
    type: 'StockRestocked',
    data: { productId, quantity: 3, at: '2026-03-01T10:00:00.000Z' },
    metadata: { actor: 'root', correlationId: 'c', causationId: 'c', schemaVersion: 1 },
    recordedAt: new Date('2026-03-01T10:00:00.000Z'),
    hash: 'h',
    previousHash: 'p',
    ...overrides,
  };
}

describe('Decoding a stored event', () => {
  describe('of a type the shop writes, in its own category', () => {
    it('answers the domain event with where, when and why it was stored', () => {
      const stored = recorded();
      const decoded = decodeStoredEvent(stored);
      expect(decoded).to.deep.equal({
        event: { type: 'StockRestocked', data: stored.data },
        id: stored.id,
        streamId: stored.streamId,
        revision: 0,
        position: 42,
        recordedAt: stored.recordedAt,
        metadata: stored.metadata,
      });
    });
  });

  describe('that the shop cannot read', () => {
    it('refuses an unknown type, a type in another category’s stream and a schema version it does not know', () => {
      for (const unreadable of [
        recorded({ type: 'StockTeleported' }),
        recorded({ streamId: `order-${randomUUID()}` }),
        recorded({ metadata: { actor: 'root', correlationId: 'c', causationId: 'c', schemaVersion: 2 } }),
      ]) {
        expect(() => decodeStoredEvent(unreadable)).to.throw(UndecodableEvent, unreadable.id);
      }
    });
  });

  describe('at an older schema version', () => {
    it('is upcast to the current one before it is decoded', () => {
      const decode = storedEventDecoder([
        {
          eventType: 'StockRestocked',
          fromSchemaVersion: 0,
          upcast: ({ count, ...rest }) => ({ ...rest, quantity: count ?? 0 }),
        },
      ]);
      const { productId } = recorded().data as { productId: string };
      const old = recorded({
        streamId: `inventory-${productId}`,
        data: { productId, count: 7, at: '2026-03-01T10:00:00.000Z' },
        metadata: { actor: 'root', correlationId: 'c', causationId: 'c', schemaVersion: 0 },
      });
      const decoded = decode(old);
      expect(decoded.event).to.deep.equal({
        type: 'StockRestocked',
        data: { productId, quantity: 7, at: '2026-03-01T10:00:00.000Z' },
      });
      expect(decoded.metadata.schemaVersion).to.equal(1);
    });
  });
});
