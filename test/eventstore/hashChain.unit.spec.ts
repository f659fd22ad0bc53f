import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { canonicalJson, chainHash, GENESIS_HASH } from '../../src/eventstore/hashChain.js';
import { type Upcaster, upcasterChain } from '../../src/eventstore/upcasting.js';

describe('The hash chain', () => {
  describe('canonical JSON', () => {
    it('sorts keys at every level, whatever order the writer used', () => {
      const written = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } };
      const reordered = { a: { c: 'x', d: [3, { y: null, z: true }] }, b: 1 };
      expect(canonicalJson(written)).to.equal('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
      expect(canonicalJson(reordered)).to.equal(canonicalJson(written));
    });

    it('keeps array order, which is meaningful', () => {
      expect(canonicalJson([2, 1])).not.to.equal(canonicalJson([1, 2]));
    });

    it('sorts keys that look like numbers as text, as JSON.parse gives them back', () => {
      expect(canonicalJson({ '10': 'b', '9': 'c', a: 'd' })).to.equal('{"10":"b","9":"c","a":"d"}');
    });

    it('writes numbers, booleans and null as JSON does', () => {
      const value = { n: [0, -0, 1.5, -2e-7, 1e21, 123456789012], t: true, f: false, z: null };
      expect(canonicalJson(value)).to.equal(JSON.stringify({ f: false, n: value.n, t: true, z: null }));
    });

    it('escapes strings as JSON does', () => {
      expect(canonicalJson({ 'quote"key': 'line\nbreak ✓' })).to.equal('{"quote\\"key":"line\\nbreak ✓"}');
    });
  });

  describe('chainHash', () => {
    it('is the hex SHA-256 of the previous hash followed by the canonical event', () => {
      const expected = createHash('sha256').update(`${GENESIS_HASH}{"a":1}`).digest('hex');
      expect(chainHash(GENESIS_HASH, '{"a":1}')).to.equal(expected);
    });
  });
});

describe('Upcasting', () => {
  describe('when two upcasters claim the same type and version', () => {
    it('refuses the registration', () => {
      const upcaster: Upcaster = { eventType: 'PriceSet', fromSchemaVersion: 1, upcast: (data) => data };
      expect(() => upcasterChain([upcaster, upcaster])).to.throw('two upcasters for PriceSet@1');
    });
  });
});
