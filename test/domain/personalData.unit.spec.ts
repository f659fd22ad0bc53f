import { expect } from 'chai';
import { ERASED, maskToken, PERSONAL_DATA, withCardTokensMasked } from '../../src/domain/personalData.js';

describe('Card tokens', () => {
  describe('masked', () => {
    const cases: [token: string, shown: string][] = [
      ['tok_visa_secret123', 'tok_…123'],
      ['tok_mastercard_0000000000', 'tok_…000'],
      // Under 16 characters each end shows at most a quarter, so half stays hidden.
      ['tok_visa_1234', 'tok…234'],
      ['tok_visa', 'to…sa'],
      ['abcd', 'a…d'],
      // Too short to show any of it.
      ['abc', '…'],
      ['a', '…'],
      ['', '…'],
    ];
    for (const [token, shown] of cases) {
      it(`shows ${JSON.stringify(token)} as ${JSON.stringify(shown)}`, () => {
        expect(maskToken(token)).to.equal(shown);
      });
    }

    it('never hides fewer characters than it shows', () => {
      for (let length = 0; length <= 40; length += 1) {
        const token = 'x'.repeat(length);
        const shown = maskToken(token).replace('…', '').length;
        expect(length - shown, `a token of ${length}`).to.be.at.least(shown);
      }
    });

    it('never cuts a character outside the BMP in half', () => {
      expect(maskToken('😀😀😀😀tok_1234😀😀😀')).to.equal('😀😀😀…😀😀😀');
    });
  });

  describe('in event data', () => {
    const placed = {
      orderId: 'o-1',
      userId: 'u-1',
      paymentMethod: { type: 'card', token: 'tok_visa_secret123' },
      totalCents: 5000,
    };

    it('masks the token of an OrderPlaced and keeps the rest, leaving the data it was given alone', () => {
      const before = structuredClone(placed);
      expect(withCardTokensMasked('OrderPlaced', placed)).to.deep.equal({
        ...placed,
        paymentMethod: { type: 'card', token: 'tok_…123' },
      });
      expect(placed).to.deep.equal(before);
    });

    it("masks the token inside a CartCheckedOut's recorded request", () => {
      const request = { idempotencyKey: 'k', paymentMethod: { type: 'card', token: 'tok_visa_secret123' } };
      const shown = withCardTokensMasked('CartCheckedOut', { userId: 'u-1', request });
      expect(shown).to.deep.equal({
        userId: 'u-1',
        request: { idempotencyKey: 'k', paymentMethod: { type: 'card', token: 'tok_…123' } },
      });
    });

    it("masks a PaymentRequested's token", () => {
      expect(withCardTokensMasked('PaymentRequested', { token: 'tok_visa_secret123' })).to.deep.equal({
        token: 'tok_…123',
      });
    });

    it('leaves erased fields erased', () => {
      expect(withCardTokensMasked('OrderPlaced', { ...placed, paymentMethod: ERASED })).to.deep.equal({
        ...placed,
        paymentMethod: ERASED,
      });
      expect(withCardTokensMasked('CartCheckedOut', { request: ERASED })).to.deep.equal({ request: ERASED });
      expect(withCardTokensMasked('PaymentRequested', { token: ERASED })).to.deep.equal({ token: ERASED });
    });

    it('hides whole what stands where a token belongs but is not text', () => {
      const odd = { paymentMethod: { type: 'card', token: { number: '4242424242424242' } } };
      expect(withCardTokensMasked('OrderPlaced', odd)).to.deep.equal({
        paymentMethod: { type: 'card', token: '…' },
      });
    });

    it('returns the data of events without a token as it is', () => {
      const data = { productId: 'p-1', token: 'not-a-card' };
      expect(withCardTokensMasked('ProductCreated', data)).to.equal(data);
      expect(withCardTokensMasked('OrderPlaced', { orderId: 'o-1' })).to.deep.equal({ orderId: 'o-1' });
      expect(withCardTokensMasked('constructor', data)).to.equal(data);
    });

    it('masks only what is also sealed: every event with a token carries personal data', () => {
      for (const type of ['OrderPlaced', 'CartCheckedOut', 'PaymentRequested']) {
        expect(PERSONAL_DATA[type], type).to.not.equal(undefined);
      }
      expect(PERSONAL_DATA.OrderPlaced?.fields).to.include('paymentMethod');
      expect(PERSONAL_DATA.CartCheckedOut?.fields).to.include('request');
      expect(PERSONAL_DATA.PaymentRequested?.fields).to.include('token');
    });
  });
});
