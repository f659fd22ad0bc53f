import { expect } from 'chai';
import { VerifiedTokens } from '../../../src/api/auth/verifiedTokens.js';

describe('Verified tokens kept', () => {
  const start = Date.parse('2026-03-01T10:00:00.000Z');
  const seconds = (ms: number): number => ms / 1000;

  function kept() {
    let now = start;
    const tokens = new VerifiedTokens<string>(5_000, () => now);
    return { tokens, advance: (ms: number) => void (now += ms) };
  }

  it('answers a kept token by its exact header, and no other', () => {
    const { tokens } = kept();
    tokens.keep('Bearer a.b.c', 'caller', seconds(start + 30_000));
    expect(tokens.get('Bearer a.b.c')).to.equal('caller');
    expect(tokens.get('Bearer a.b.d')).to.equal(undefined);
    expect(tokens.get('bearer a.b.c')).to.equal(undefined);
  });

  it('stops answering once the token expires, with the clock tolerance', () => {
    const { tokens, advance } = kept();
    tokens.keep('Bearer t', 'caller', seconds(start + 10_000));
    advance(14_999);
    expect(tokens.get('Bearer t')).to.equal('caller');
    advance(1);
    expect(tokens.get('Bearer t')).to.equal(undefined);
  });

  it('trusts a long-lived token for a minute at most, so that a withdrawn key stops opening requests', () => {
    const { tokens, advance } = kept();
    tokens.keep('Bearer t', 'caller', seconds(start + 3_600_000));
    advance(59_999);
    expect(tokens.get('Bearer t')).to.equal('caller');
    advance(1);
    expect(tokens.get('Bearer t')).to.equal(undefined);
  });

  it('keeps nothing of a token already past its expiry and tolerance', () => {
    const { tokens } = kept();
    tokens.keep('Bearer t', 'caller', seconds(start - 5_000));
    expect(tokens.get('Bearer t')).to.equal(undefined);
  });

  it('gives up the least recently used token first once full', () => {
    const { tokens } = kept();
    const expiry = seconds(start + 30_000);
    tokens.keep('Bearer first', 'first', expiry);
    tokens.keep('Bearer second', 'second', expiry);
    expect(tokens.get('Bearer first')).to.equal('first');
    for (let index = 0; index < 9_999; index += 1) tokens.keep(`Bearer ${index}`, 'other', expiry);
    expect(tokens.get('Bearer second'), 'the least recently used').to.equal(undefined);
    expect(tokens.get('Bearer first'), 'used since').to.equal('first');
  });
});
