import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { orderKettles, startTestShop, type TestShop } from '../support/shop.js';

describe('Answers with personal data', () => {
  let shop: TestShop;
  let tokens: { admin: string; shopper: string; auditor: string; analyst: string };
  let orderId: string;

  before(async () => {
    shop = await startTestShop();
    const [admin, shopper, auditor, analyst] = await Promise.all([
      shop.tokenFor(`admin-${randomUUID()}`, ['admin']),
      shop.tokenFor(`shopper-${randomUUID()}`, ['customer']),
      shop.tokenFor(`auditor-${randomUUID()}`, ['auditor']),
      shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']),
    ]);
    tokens = { admin, shopper, auditor, analyst };
    orderId = await orderKettles(shop, tokens, 1);
  });

  after(async () => {
    await shop.stop();
  });

  const expectNoStore = async (response: Promise<Response>, status: number): Promise<void> => {
    const answered = await response;
    expect(answered.status, `${answered.url}: ${await answered.text()}`).to.equal(status);
    expect(answered.headers.get('cache-control'), answered.url).to.equal('no-store');
  };

  it('are never stored, for the cart, orders, audit and event export, whatever the status', async () => {
    const { shopper, auditor, analyst } = tokens;
    await expectNoStore(shop.call('/api/v1/cart', { token: shopper }), 200);
    await expectNoStore(shop.call('/api/v1/cart'), 401);
    await expectNoStore(
      shop.call('/api/v1/cart/items', { method: 'POST', token: shopper, body: { quantity: 1 } }),
      400,
    );
    await expectNoStore(
      shop.call(`/api/v1/cart/items/${randomUUID()}`, { method: 'DELETE', token: shopper }),
      404,
    );
    await expectNoStore(shop.call(`/api/v1/orders/${orderId}`, { token: shopper }), 200);
    await expectNoStore(shop.call(`/api/v1/orders/${randomUUID()}`, { token: shopper }), 404);
    await expectNoStore(shop.call('/api/v1/orders', { method: 'POST', token: shopper, body: {} }), 428);
    await expectNoStore(shop.call(`/api/v1/audit/orders/${orderId}`, { token: auditor }), 200);
    await expectNoStore(shop.call(`/api/v1/audit/orders/${orderId}`, { token: shopper }), 403);
    await expectNoStore(shop.call('/api/v1/events?category=order', { token: analyst }), 200);
    await expectNoStore(shop.call('/api/v1/events?limit=0', { token: analyst }), 400);
    await expectNoStore(shop.call('/api/v1/orders/unknown/path', { token: shopper }), 404);
  });

  it('leave the catalog alone: its answers hold none', async () => {
    const products = await shop.call(`/api/v1/products/${randomUUID()}`);
    expect(products.status).to.equal(404);
    expect(products.headers.get('cache-control')).to.equal(null);
  });
});
