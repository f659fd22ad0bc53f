import { expect } from 'chai';
import { expectProblem, startTestShop, type TestShop } from '../../support/shop.js';
import { randomUUID } from 'node:crypto';
import {
  forgeToken,
  hmacSha256,
  newSigningKey,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TestIdentityProvider,
} from '../../support/identityProvider.js';

describe('The shop with a configured identity provider', () => {
  let provider: TestIdentityProvider;
  let shop: TestShop;

  before(async () => {
    provider = await TestIdentityProvider.start();
    shop = await startTestShop({
      NODE_ENV: 'production',
      OIDC_ISSUER: TEST_ISSUER,
      OIDC_AUDIENCE: TEST_AUDIENCE,
      OIDC_JWKS_URI: provider.jwksUri,
    });
  });

  after(async () => {
    await shop.stop();
    await provider.stop();
  });

  it('accepts the provider’s tokens, with roles from realm_access', async () => {
    const customer = provider.sign({ sub: 'kc-user-1', roles: ['customer'] });
    const cart = await shop.call('/api/v1/cart', { token: customer });
    expect(cart.status).to.equal(200);
    await expectProblem(
      await shop.call('/api/v1/categories', { method: 'POST', token: customer, body: { name: 'Tools' } }),
      403,
    );
    const admin = provider.sign({ sub: 'kc-admin', roles: ['admin'] });
    const created = await shop.call('/api/v1/categories', {
      method: 'POST',
      token: admin,
      body: { name: 'Tools' },
    });
    expect(created.status).to.equal(201);
  });

  it('refuses forged, altered, expired and misdirected tokens on a real endpoint', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: 'intruder',
      realm_access: { roles: ['admin'] },
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE,
      exp: now + 300,
    };
    const [header, , signature] = provider.sign({ sub: 'intruder', roles: ['customer'] }).split('.');
    const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const publicPem = provider.key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const tokens = {
      garbage: 'not.a.token',
      'alg none': forgeToken({ alg: 'none', typ: 'JWT' }, claims),
      'HS256 with the public key': forgeToken(
        { alg: 'HS256', kid: provider.key.kid },
        claims,
        hmacSha256(publicPem),
      ),
      'HS256 with a guessed secret': forgeToken(
        { alg: 'HS256', kid: provider.key.kid },
        claims,
        hmacSha256('secret'),
      ),
      'altered payload': altered,
      expired: provider.sign({ roles: ['admin'], expiresIn: -60 }),
      'wrong issuer': provider.sign({ roles: ['admin'], issuer: 'https://evil.example/realms/shop' }),
      'wrong audience': provider.sign({ roles: ['admin'], audience: 'another-api' }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const response = await shop.call('/api/v1/categories', { method: 'POST', token, body: { name } });
      await expectProblem(response, 401);
      expect(response.headers.get('www-authenticate'), name).to.match(
        /^Bearer realm="shop", error="invalid_token"/,
      );
    }
  });

  it('accepts a key rotated in right after 20 tokens with unknown kids, fetching the keys a bounded number of times', async () => {
    const fetchesBefore = provider.fetches;
    const stranger = newSigningKey();
    const unknown = await Promise.all(
      Array.from({ length: 20 }, () =>
        shop.call('/api/v1/cart', { token: provider.sign({ key: stranger, kid: randomUUID() }) }),
      ),
    );
    expect(unknown.map((response) => response.status)).to.deep.equal(Array(20).fill(401));
    const rotated = newSigningKey();
    provider.publish(provider.key, rotated);
    const response = await shop.call('/api/v1/cart', { token: provider.sign({ key: rotated }) });
    expect(response.status).to.equal(200);
    expect(provider.fetches - fetchesBefore).to.be.at.most(3);
  });

  it('serves no development issuer', async () => {
    await expectProblem(
      await shop.call('/dev/token', { method: 'POST', body: { sub: 'x', roles: ['admin'] } }),
      404,
    );
    await expectProblem(await shop.call('/.well-known/jwks.json'), 404);
  });

  it('refuses a token from the development issuer’s layout but another issuer', async () => {
    const foreign = provider.sign({ sub: 'kc-user-1', issuer: 'shop-dev-issuer' });
    await expectProblem(await shop.call('/api/v1/cart', { token: foreign }), 401);
  });
});
