import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, startTestShop, TEST_ADDRESS, type TestShop } from '../../support/shop.js';

/** Where `scripts/keycloak.sh start` serves Keycloak, with the realm of scripts/keycloak/shop-realm.json. */
const keycloakUrl = process.env.KEYCLOAK_URL;

interface TokenAnswer {
  access_token: string;
}

async function passwordGrant(realmUrl: string, clientId: string, username: string, password: string) {
  const response = await fetch(`${realmUrl}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password }),
  });
  expect(response.status, await response.clone().text()).to.equal(200);
  return ((await response.json()) as TokenAnswer).access_token;
}

const claimsOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const kidOf = (token: string): unknown =>
  (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: string }).kid;

describe('The shop behind a real Keycloak', () => {
  if (!keycloakUrl) {
    // A test without a body is reported as pending: Keycloak is started by scripts/keycloak.sh, not by the tests.
    it(
      'accepts the realm’s tokens and keys (skipped: KEYCLOAK_URL is not set; scripts/keycloak.sh start runs one)',
    );
    return;
  }
  const realmUrl = `${keycloakUrl}/realms/shop`;
  const login = (username: string): Promise<string> =>
    passwordGrant(realmUrl, 'shop-cli', username, `${username}-password`);
  let shop: TestShop;

  before(async () => {
    shop = await startTestShop({
      NODE_ENV: 'production',
      OIDC_ISSUER: realmUrl,
      OIDC_AUDIENCE: 'shop-api',
      OIDC_JWKS_URI: `${realmUrl}/protocol/openid-connect/certs`,
    });
  });

  after(async () => {
    await shop.stop();
  });

  it('lets the realm’s admin stock a product and its customer order it, as the Keycloak user', async () => {
    const [root, shopper, otherShopper] = await Promise.all([
      login('root'),
      login('shopper'),
      login('other-shopper'),
    ]);
    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: root,
      body: { name: 'Teapot', price: '30.00', initialStock: 5 },
    });
    expect(created.status).to.equal(201);
    const { id: productId } = (await created.json()) as { id: string };
    const added = await shop.call('/api/v1/cart/items', {
      method: 'POST',
      token: shopper,
      body: { productId, quantity: 1 },
    });
    expect(added.status).to.equal(200);

    const placed = await shop.call('/api/v1/orders', {
      method: 'POST',
      token: shopper,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        shippingAddress: TEST_ADDRESS,
        paymentMethod: { type: 'card', token: 'tok_visa' },
      },
    });
    expect(placed.status, await placed.clone().text()).to.equal(202);
    const { orderId } = (await placed.json()) as { orderId: string };
    const order = await shop.call(`/api/v1/orders/${orderId}`, { token: shopper });
    expect(((await order.json()) as { userId: string }).userId).to.equal(claimsOf(shopper).sub);
    await expectProblem(await shop.call(`/api/v1/orders/${orderId}`, { token: otherShopper }), 404);
  });

  it('keeps the realm’s customers off admin routes (403)', async () => {
    const shopper = await login('shopper');
    await expectProblem(
      await shop.call('/api/v1/categories', { method: 'POST', token: shopper, body: { name: 'Pots' } }),
      403,
    );
  });

  it('refuses a token of the same server’s other realm, and a realm token whose roles were altered (401)', async () => {
    const masterAdmin = await passwordGrant(`${keycloakUrl}/realms/master`, 'admin-cli', 'admin', 'admin');
    const shopper = await login('shopper');
    const [header, , signature] = shopper.split('.');
    const promoted = { ...claimsOf(shopper), realm_access: { roles: ['admin'] } };
    const altered = `${header}.${Buffer.from(JSON.stringify(promoted)).toString('base64url')}.${signature}`;
    const before = await shop.eventCount();

    for (const token of [masterAdmin, altered]) {
      await expectProblem(
        await shop.call('/api/v1/categories', { method: 'POST', token, body: { name: 'Pots' } }),
        401,
      );
    }
    expect(await shop.eventCount()).to.equal(before);
  });

  it('accepts tokens signed with a key rotated in at Keycloak, on their first request', async () => {
    const earlier = await login('shopper');
    expect((await shop.call('/api/v1/cart', { token: earlier })).status).to.equal(200);
    const admin = await passwordGrant(`${keycloakUrl}/realms/master`, 'admin-cli', 'admin', 'admin');
    const realm = (await (
      await fetch(`${keycloakUrl}/admin/realms/shop`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { id: string };
    const rotated = await fetch(`${keycloakUrl}/admin/realms/shop/components`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `rotated-${randomUUID()}`,
        providerId: 'rsa-generated',
        providerType: 'org.keycloak.keys.KeyProvider',
        parentId: realm.id,
        // The highest priority signs from now on; each rotation outranks the ones before.
        config: { priority: [String(Date.now())], enabled: ['true'], active: ['true'], algorithm: ['RS256'] },
      }),
    });
    expect(rotated.status, await rotated.clone().text()).to.equal(201);

    const later = await login('shopper');
    expect(kidOf(later)).to.be.a('string').and.not.equal(kidOf(earlier));
    expect((await shop.call('/api/v1/cart', { token: later })).status).to.equal(200);
    expect((await shop.call('/api/v1/cart', { token: earlier })).status).to.equal(200);
  });
});
