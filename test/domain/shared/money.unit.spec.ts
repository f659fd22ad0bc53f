import { expect } from 'chai';
import { formatMoney, parseMoney } from '../../../src/domain/shared/money.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';

describe('Money', () => {
  describe('when parsed from a request', () => {
    for (const [input, cents] of [
      ['29.99', 2999],
      ['29.9', 2990],
      ['29', 2900],
      [29.99, 2999],
      [0.1, 10],
      [10000, 1_000_000],
    ] as const) {
      it(`reads ${JSON.stringify(input)} as ${cents} cents`, () => {
        expect(parseMoney('price', input)).to.equal(cents);
      });
    }

    for (const input of ['29.999', 29.999, '-1', '1e3', '', ' 1', 'abc', Number.NaN, null, '1.']) {
      it(`refuses ${typeof input} ${JSON.stringify(input) ?? String(input)}`, () => {
        expect(() => parseMoney('price', input)).to.throw(ValidationError, /^price:/);
      });
    }
  });

  describe('when formatted for a response', () => {
    it('always shows two decimals', () => {
      expect([2999, 2990, 5, 0, 1_000_000].map(formatMoney)).to.deep.equal([
        '29.99',
        '29.90',
        '0.05',
        '0.00',
        '10000.00',
      ]);
    });
  });
});
