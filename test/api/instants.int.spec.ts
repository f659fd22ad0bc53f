import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { parseInstant } from '../../src/api/http.js';
import { expectProblem, fieldsOf, startTestShop, type TestShop } from '../support/shop.js';

/** Written the ISO 8601 way, but naming no instant on the calendar or the clock. */
const IMPOSSIBLE = [
  '2026-02-31T00:00:00Z',
  '2026-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-03-00T00:00:00Z',
  '2026-03-01T24:00:00Z',
  '2026-03-01T10:60:00Z',
  '2026-03-01T10:00:60Z',
  '2026-03-01T10:00:00+24:00',
  '2026-03-01T10:00:00+01:60',
];

describe('Instants in queries', () => {
  describe('parseInstant', () => {
    it('takes dates and times that exist, leap days included, with any offset', () => {
      expect(parseInstant('2028-02-29T23:59:59Z')?.toISOString()).to.equal('2028-02-29T23:59:59.000Z');
      expect(parseInstant('2000-02-29T12:00Z')?.toISOString()).to.equal('2000-02-29T12:00:00.000Z');
      expect(parseInstant('2026-12-31T23:30:00.250-01:30')?.toISOString()).to.equal(
        '2027-01-01T01:00:00.250Z',
      );
      expect(parseInstant('2026-04-30T00:00:00+14:00')?.toISOString()).to.equal('2026-04-29T10:00:00.000Z');
    });

    it('refuses a day, month, hour, minute, second or offset that does not exist, instead of rolling it over', () => {
      for (const text of IMPOSSIBLE) expect(parseInstant(text), text).to.equal(undefined);
    });
  });

  describe('the audit’s asOf', () => {
    let shop: TestShop;
    let auditor: string;

    before(async () => {
      shop = await startTestShop();
      auditor = await shop.tokenFor(`auditor-${randomUUID()}`, ['auditor']);
    });

    after(async () => {
      await shop.stop();
    });

    it('is a 400 naming asOf on 31 February, where a real date finds no order', async () => {
      const orderId = randomUUID();
      const problem = await expectProblem(
        await shop.call(`/api/v1/audit/orders/${orderId}?asOf=2026-02-31T00:00:00Z`, { token: auditor }),
        400,
      );
      expect(fieldsOf(problem)).to.deep.equal(['asOf']);
      await expectProblem(
        await shop.call(`/api/v1/audit/orders/${orderId}?asOf=2026-03-03T00:00:00Z`, { token: auditor }),
        404,
      );
    });
  });
});
