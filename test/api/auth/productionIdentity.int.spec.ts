import { expect } from 'chai';
import { expectProblem, startTestShop, type TestShop } from '../../support/shop.js';
import { TEST_AUDIENCE, TEST_ISSUER, TestIdentityProvider } from '../../support/identityProvider.js';

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
