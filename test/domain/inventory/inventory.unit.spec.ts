import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type InventoryCommand,
  type InventoryEvent,
  inventoryDecider,
  inventoryStreamId,
  inventoryView,
} from '../../../src/domain/inventory/inventory.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const at = '2025-03-01T10:00:00.000Z';
const later = '2025-03-04T09:30:00.000Z';

/** Commands and events for one product, so each test gets its own stream. */
function stockOf(productId = randomUUID()) {
  return {
    productId,
    restock: (quantity: number): InventoryCommand => ({ type: 'Restock', productId, quantity, now: at }),
    reserve: (orderId: string, quantity: number): InventoryCommand => ({
      type: 'ReserveStock',
      productId,
      orderId,
      quantity,
      now: at,
    }),
    release: (orderId: string): InventoryCommand => ({
      type: 'ReleaseReservation',
      productId,
      orderId,
      now: at,
    }),
    commit: (orderId: string): InventoryCommand => ({
      type: 'CommitReservation',
      productId,
      orderId,
      now: at,
    }),
    returnStock: (orderId: string, now = later): InventoryCommand => ({
      type: 'ReturnStock',
      productId,
      orderId,
      now,
    }),
    restocked: (quantity: number): InventoryEvent => ({
      type: 'StockRestocked',
      data: { productId, quantity, at },
    }),
    reserved: (orderId: string, quantity: number): InventoryEvent => ({
      type: 'StockReserved',
      data: { productId, orderId, quantity, at },
    }),
    released: (orderId: string, quantity: number): InventoryEvent => ({
      type: 'ReservationReleased',
      data: { productId, orderId, quantity, at },
    }),
    committed: (orderId: string, quantity: number): InventoryEvent => ({
      type: 'ReservationCommitted',
      data: { productId, orderId, quantity, at },
    }),
    rejected: (orderId: string, quantity: number, available: number): InventoryEvent => ({
      type: 'ReservationRejected',
      data: { productId, orderId, quantity, available, at },
    }),
    returned: (orderId: string, quantity: number, when = later): InventoryEvent => ({
      type: 'StockReturned',
      data: { productId, orderId, quantity, at: when },
    }),
  };
}

const viewAfter = (events: readonly InventoryEvent[]) => inventoryView(fold(inventoryDecider, events));

describe('Inventory', () => {
  describe('when never restocked', () => {
    it('has nothing on hand, reserved or available', () => {
      expect(viewAfter([])).to.deep.equal({ onHand: 0, reserved: 0, available: 0 });
    });

    it('is restocked', () => {
      const stock = stockOf();
      given(inventoryDecider)
        .when(stock.restock(10))
        .then([stock.restocked(10)]);
    });

    it('accepts a restock of 1 and of 1000000', () => {
      const stock = stockOf();
      given(inventoryDecider)
        .when(stock.restock(1))
        .then([stock.restocked(1)]);
      given(inventoryDecider)
        .when(stock.restock(1_000_000))
        .then([stock.restocked(1_000_000)]);
    });

    for (const quantity of [0, -1, 1.5, 1_000_001, Number.NaN]) {
      it(`refuses a restock of ${quantity}`, () => {
        given(inventoryDecider)
          .when(stockOf().restock(quantity))
          .thenThrows(ValidationError, /^quantity: must be a whole number from 1 to 1000000/);
      });
    }

    it('rejects a reservation, with nothing available', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider)
        .when(stock.reserve(orderId, 1))
        .then([stock.rejected(orderId, 1, 0)]);
    });

    it('has nothing to release, commit or return', () => {
      const stock = stockOf();
      given(inventoryDecider).when(stock.release(randomUUID())).then([]);
      given(inventoryDecider).when(stock.commit(randomUUID())).then([]);
      given(inventoryDecider).when(stock.returnStock(randomUUID())).then([]);
    });
  });

  describe('when in stock', () => {
    it('reserves stock for an order', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5)])
        .when(stock.reserve(orderId, 3))
        .then([stock.reserved(orderId, 3)]);
    });

    it('reserves every unit that is available', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(2), stock.restocked(3)])
        .when(stock.reserve(orderId, 5))
        .then([stock.reserved(orderId, 5)]);
    });

    it('rejects a reservation of more than is available, saying how much is', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5)])
        .when(stock.reserve(orderId, 6))
        .then([stock.rejected(orderId, 6, 5)]);
    });

    it("counts other orders' reservations as unavailable", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(randomUUID(), 4)])
        .when(stock.reserve(orderId, 2))
        .then([stock.rejected(orderId, 2, 1)]);
    });

    it('no longer counts stock that was committed', () => {
      const stock = stockOf();
      const first = randomUUID();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(first, 5), stock.committed(first, 5)])
        .when(stock.reserve(orderId, 1))
        .then([stock.rejected(orderId, 1, 0)]);
    });

    it('counts stock that was returned as available again', () => {
      const stock = stockOf();
      const first = randomUUID();
      const orderId = randomUUID();
      given(inventoryDecider, [
        stock.restocked(5),
        stock.reserved(first, 5),
        stock.committed(first, 5),
        stock.returned(first, 5),
      ])
        .when(stock.reserve(orderId, 5))
        .then([stock.reserved(orderId, 5)]);
    });

    it('holds nothing for an order whose reservation was rejected', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      const events = [stock.restocked(5), stock.rejected(orderId, 6, 5)];
      given(inventoryDecider, events).when(stock.release(orderId)).then([]);
      given(inventoryDecider, events).when(stock.commit(orderId)).then([]);
      given(inventoryDecider, events).when(stock.returnStock(orderId)).then([]);
      const other = randomUUID();
      given(inventoryDecider, events)
        .when(stock.reserve(other, 5))
        .then([stock.reserved(other, 5)]);
    });

    for (const quantity of [0, -2, 1.5, Number.NaN]) {
      it(`refuses a reservation of ${quantity}`, () => {
        const stock = stockOf();
        given(inventoryDecider, [stock.restocked(5)])
          .when(stock.reserve(randomUUID(), quantity))
          .thenThrows(ValidationError, /^quantity: must be a whole number of at least 1/);
      });
    }

    it('ignores a second reservation for the same order', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.reserve(orderId, 3))
        .then([]);
    });

    it('reserves again for an order once its reservation was released', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3), stock.released(orderId, 3)])
        .when(stock.reserve(orderId, 4))
        .then([stock.reserved(orderId, 4)]);
    });
  });

  describe('when holding a reservation', () => {
    it("releases the order's reserved quantity", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.release(orderId))
        .then([stock.released(orderId, 3)]);
    });

    it("commits the order's reserved quantity", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.commit(orderId))
        .then([stock.committed(orderId, 3)]);
    });

    it('has nothing to release or commit for another order', () => {
      const stock = stockOf();
      const events = [stock.restocked(5), stock.reserved(randomUUID(), 3)];
      given(inventoryDecider, events).when(stock.release(randomUUID())).then([]);
      given(inventoryDecider, events).when(stock.commit(randomUUID())).then([]);
    });

    it('has nothing to release or commit once released', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      const events = [stock.restocked(5), stock.reserved(orderId, 3), stock.released(orderId, 3)];
      given(inventoryDecider, events).when(stock.release(orderId)).then([]);
      given(inventoryDecider, events).when(stock.commit(orderId)).then([]);
    });

    it('has nothing to release or commit once committed', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      const events = [stock.restocked(5), stock.reserved(orderId, 3), stock.committed(orderId, 3)];
      given(inventoryDecider, events).when(stock.release(orderId)).then([]);
      given(inventoryDecider, events).when(stock.commit(orderId)).then([]);
    });

    it('does not reserve again what the order took already', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3), stock.committed(orderId, 3)])
        .when(stock.reserve(orderId, 3))
        .then([]);
    });
  });

  describe('when an order committed stock', () => {
    it('returns what the order committed, when told to', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [
        stock.restocked(5),
        stock.reserved(orderId, 3),
        stock.reserved(randomUUID(), 1),
        stock.committed(orderId, 3),
      ])
        .when(stock.returnStock(orderId, later))
        .then([stock.returned(orderId, 3, later)]);
    });

    it('returns nothing a second time', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [
        stock.restocked(5),
        stock.reserved(orderId, 3),
        stock.committed(orderId, 3),
        stock.returned(orderId, 3),
      ])
        .when(stock.returnStock(orderId))
        .then([]);
    });

    it('returns nothing for an order that only reserved', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.returnStock(orderId))
        .then([]);
    });

    it('returns nothing for an order whose reservation was released', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3), stock.released(orderId, 3)])
        .when(stock.returnStock(orderId))
        .then([]);
    });

    it('returns nothing for another order', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3), stock.committed(orderId, 3)])
        .when(stock.returnStock(randomUUID()))
        .then([]);
    });

    it("returns each order's own quantity", () => {
      const stock = stockOf();
      const first = randomUUID();
      const second = randomUUID();
      const events = [
        stock.restocked(10),
        stock.reserved(first, 3),
        stock.reserved(second, 4),
        stock.committed(first, 3),
        stock.committed(second, 4),
        stock.returned(first, 3),
      ];
      given(inventoryDecider, events).when(stock.returnStock(first)).then([]);
      given(inventoryDecider, events)
        .when(stock.returnStock(second))
        .then([stock.returned(second, 4)]);
    });
  });

  describe('when viewed', () => {
    it('adds restocks to what is on hand and available', () => {
      const stock = stockOf();
      expect(viewAfter([stock.restocked(5), stock.restocked(7)])).to.deep.equal({
        onHand: 12,
        reserved: 0,
        available: 12,
      });
    });

    it('takes reservations of every order out of what is available', () => {
      const stock = stockOf();
      expect(
        viewAfter([stock.restocked(10), stock.reserved(randomUUID(), 3), stock.reserved(randomUUID(), 4)]),
      ).to.deep.equal({ onHand: 10, reserved: 7, available: 3 });
    });

    it('makes released stock available again', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      expect(
        viewAfter([
          stock.restocked(10),
          stock.reserved(orderId, 3),
          stock.reserved(randomUUID(), 4),
          stock.released(orderId, 3),
        ]),
      ).to.deep.equal({ onHand: 10, reserved: 4, available: 6 });
    });

    it('takes committed stock off hand and out of the reservations', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      expect(
        viewAfter([
          stock.restocked(10),
          stock.reserved(orderId, 3),
          stock.reserved(randomUUID(), 4),
          stock.committed(orderId, 3),
        ]),
      ).to.deep.equal({ onHand: 7, reserved: 4, available: 3 });
    });

    it("keeps each order's reservation in the state", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      expect(fold(inventoryDecider, [stock.restocked(10), stock.reserved(orderId, 3)])).to.deep.equal({
        status: 'Tracked',
        productId: stock.productId,
        onHand: 10,
        reserved: new Map([[orderId, 3]]),
        committed: new Map(),
      });
    });

    it('puts returned stock back on hand and available', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      const committed = [
        stock.restocked(10),
        stock.reserved(orderId, 3),
        stock.reserved(randomUUID(), 4),
        stock.committed(orderId, 3),
      ];
      expect(viewAfter(committed)).to.deep.equal({ onHand: 7, reserved: 4, available: 3 });
      expect(viewAfter([...committed, stock.returned(orderId, 3)])).to.deep.equal({
        onHand: 10,
        reserved: 4,
        available: 6,
      });
    });

    it('changes nothing for a rejected reservation', () => {
      const stock = stockOf();
      expect(viewAfter([stock.restocked(2), stock.rejected(randomUUID(), 3, 2)])).to.deep.equal({
        onHand: 2,
        reserved: 0,
        available: 2,
      });
    });

    it('keeps what each order committed in the state, until it is returned', () => {
      const stock = stockOf();
      const first = randomUUID();
      const second = randomUUID();
      const committed = [
        stock.restocked(10),
        stock.reserved(first, 3),
        stock.reserved(second, 4),
        stock.committed(first, 3),
        stock.committed(second, 4),
      ];
      expect(fold(inventoryDecider, committed)).to.deep.equal({
        status: 'Tracked',
        productId: stock.productId,
        onHand: 3,
        reserved: new Map(),
        committed: new Map([
          [first, 3],
          [second, 4],
        ]),
      });
      expect(fold(inventoryDecider, [...committed, stock.returned(first, 3)])).to.deep.equal({
        status: 'Tracked',
        productId: stock.productId,
        onHand: 6,
        reserved: new Map(),
        committed: new Map([[second, 4]]),
      });
    });
  });

  describe('when stored', () => {
    it('lives in one stream per product', () => {
      const productId = randomUUID();
      expect(inventoryStreamId(productId)).to.equal(`inventory-${productId}`);
    });
  });
});
