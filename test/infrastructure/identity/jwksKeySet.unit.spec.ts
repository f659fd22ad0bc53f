import { generateKeyPairSync, type JsonWebKey, KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { KeySetUnavailable } from '../../../src/api/auth/keySet.js';
import { type JsonWebKeySet, JwksKeySet } from '../../../src/infrastructure/identity/jwksKeySet.js';
import { waitFor } from '../../support/waitFor.js';

const rsa = (): KeyObject => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const jwk = (publicKey: KeyObject, kid: string): JsonWebKey => ({
  ...publicKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
});

/** The key set's answer for `kid` is `publicKey`, parsed: a PEM would be parsed again by each verification. */
async function expectKey(keys: JwksKeySet, kid: string, publicKey: KeyObject): Promise<KeyObject> {
  const key = await keys.keyFor(kid);
  expect(key, kid).to.be.instanceOf(KeyObject);
  expect(key?.equals(publicKey), kid).to.equal(true);
  return key as KeyObject;
}

/** A JWKS the test changes at will, counting reads. */
class Issuer {
  reads = 0;
  failing = false;
  constructor(public published: JsonWebKeySet) {}
  read = async (): Promise<JsonWebKeySet> => {
    this.reads += 1;
    if (this.failing) throw new Error('connect ECONNREFUSED 10.0.0.1:443');
    return this.published;
  };
}

describe('JwksKeySet', () => {
  let first: KeyObject;
  let second: KeyObject;

  before(() => {
    first = rsa();
    second = rsa();
  });

  describe('when the kid is published', () => {
    it('answers its parsed key and serves later questions from the cache, with the same key object', async () => {
      const issuer = new Issuer({ keys: [jwk(first, 'k1'), jwk(second, 'k2')] });
      const keys = new JwksKeySet({ fetcher: issuer.read });
      const k1 = await expectKey(keys, 'k1', first);
      await expectKey(keys, 'k2', second);
      expect(await keys.keyFor('k1'), 'parsed once, not once a question').to.equal(k1);
      expect(issuer.reads).to.equal(1);
    });
  });

  describe('when many unknown kids arrive at once', () => {
    it('shares one fetch among them', async () => {
      const issuer = new Issuer({ keys: [jwk(first, 'k1')] });
      const keys = new JwksKeySet({ fetcher: issuer.read, cooldownMs: 60_000 });
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => keys.keyFor(`unknown-${i}`)));
      expect(answers).to.deep.equal(Array(10).fill(undefined));
      expect(issuer.reads).to.equal(1);
    });
  });

  describe('when the cooldown holds a fetch back', () => {
    it('answers unknown at once beyond maxWaitMs, yet still fetches when the cooldown ends', async () => {
      const issuer = new Issuer({ keys: [jwk(first, 'k1')] });
      const keys = new JwksKeySet({ fetcher: issuer.read, cooldownMs: 100, maxWaitMs: 0 });
      await keys.keyFor('k1');
      issuer.published = { keys: [jwk(first, 'k1'), jwk(second, 'k2')] };
      expect(await keys.keyFor('k2')).to.equal(undefined);
      expect(issuer.reads).to.equal(1);
      await waitFor(
        () => issuer.reads === 2,
        1_000,
        () => `${issuer.reads} reads`,
      );
      await expectKey(keys, 'k2', second);
    });

    it('waits for the fetch due at the end of the cooldown when that is within maxWaitMs', async () => {
      const issuer = new Issuer({ keys: [jwk(first, 'k1')] });
      const keys = new JwksKeySet({ fetcher: issuer.read, cooldownMs: 100, maxWaitMs: 1_000 });
      await keys.keyFor('k1');
      issuer.published = { keys: [jwk(second, 'k2')] };
      await expectKey(keys, 'k2', second);
      expect(issuer.reads).to.equal(2);
      expect(await keys.keyFor('k1'), 'a key the issuer retired').to.equal(undefined);
    });
  });

  describe('when the JWKS has keys that cannot verify RS256', () => {
    it('ignores them', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      const issuer = new Issuer({ keys: [jwk(ec, 'ec'), jwk(first, 'k1')] });
      const keys = new JwksKeySet({ fetcher: issuer.read });
      expect(await keys.keyFor('ec')).to.equal(undefined);
      await expectKey(keys, 'k1', first);
    });
  });

  describe('when the JWKS cannot be fetched', () => {
    it('rejects with KeySetUnavailable for an unknown kid and keeps serving the keys it has', async () => {
      const issuer = new Issuer({ keys: [jwk(first, 'k1')] });
      const keys = new JwksKeySet({ fetcher: issuer.read, cooldownMs: 0 });
      await keys.keyFor('k1');
      issuer.failing = true;
      let refused: unknown;
      await keys.keyFor('k2').catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(KeySetUnavailable);
      await expectKey(keys, 'k1', first);
    });
  });
});
