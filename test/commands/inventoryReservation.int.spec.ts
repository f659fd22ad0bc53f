import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type CommandContext, handle, load } from '../../src/commands/commandHandler.js';
import { inventories } from '../../src/commands/aggregates.js';
import { inventoryView } from '../../src/domain/inventory/inventory.js';
import { openPostgresCommands, type PostgresCommands } from '../support/postgresCommands.js';

const context: CommandContext = {
  actor: 'system:test',
  correlationId: randomUUID(),
  causationId: randomUUID(),
};
const now = '2025-03-01T10:00:00.000Z';

describe('Reserving stock', () => {
  let postgres: PostgresCommands;

  before(async () => {
    postgres = await openPostgresCommands();
  });

  after(async () => {
    await postgres.close();
  });

  describe('when 20 orders race for one unit each against a stock of 5', () => {
    it('lets exactly 5 reserve, rejects 15, and leaves 0 available, never less', async () => {
      const productId = randomUUID();
      await handle(postgres.env.streams, inventories, {
        id: productId,
        command: { type: 'Restock', productId, quantity: 5, now },
        context,
      });

      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          handle(postgres.env.streams, inventories, {
            id: productId,
            command: { type: 'ReserveStock', productId, orderId: randomUUID(), quantity: 1, now },
            context,
            retryOnConflict: true,
          }),
        ),
      );

      expect(
        outcomes.filter((outcome) => outcome.status === 'rejected'),
        'none refused',
      ).to.deep.equal([]);
      const recorded = outcomes.flatMap((outcome) =>
        outcome.status === 'fulfilled' ? outcome.value.events.map((event) => event.type) : [],
      );
      expect(recorded.filter((type) => type === 'StockReserved')).to.have.length(5);
      expect(recorded.filter((type) => type === 'ReservationRejected')).to.have.length(15);
      const { state, revision } = await load(postgres.env.streams, inventories, productId);
      expect(inventoryView(state)).to.deep.equal({ onHand: 5, reserved: 5, available: 0 });
      expect(revision, 'one restock, five reservations and fifteen rejections').to.equal(20);
    });
  });

  describe('when the same order reserves twice concurrently', () => {
    it('holds one reservation', async () => {
      const productId = randomUUID();
      const orderId = randomUUID();
      await handle(postgres.env.streams, inventories, {
        id: productId,
        command: { type: 'Restock', productId, quantity: 9, now },
        context,
      });
      await Promise.all(
        Array.from({ length: 5 }, () =>
          handle(postgres.env.streams, inventories, {
            id: productId,
            command: { type: 'ReserveStock', productId, orderId, quantity: 3, now },
            context,
            retryOnConflict: true,
          }),
        ),
      );
      const { state } = await load(postgres.env.streams, inventories, productId);
      expect(inventoryView(state)).to.deep.equal({ onHand: 9, reserved: 3, available: 6 });
    });
  });
});
