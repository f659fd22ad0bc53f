import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Router } from 'express';
import { IsObject } from 'class-validator';
import { createApp } from '../../src/api/app.js';
import { validBody } from '../../src/api/http.js';
import { expectProblem, fieldsOf, startTestShop, TEST_ADDRESS, type TestShop } from '../support/shop.js';
import { silentLogger } from '../support/testDatabase.js';

class FreeFormBody {
  @IsObject()
  data!: object;
}

/** `{"data": {"a": {"a": ... 1}}}`: the body itself is level 1, so it has `levels` in all. */
function nested(levels: number): string {
  const inner = levels - 1;
  return `{"data":${'{"a":'.repeat(inner - 1)}{}${'}'.repeat(inner - 1)}}`;
}

describe('The shape of a JSON body', () => {
  describe('on any route', () => {
    let server: Server;
    let base: string;

    before(async () => {
      const router = Router();
      router.post('/free-form', async (request, response) => {
        await validBody(FreeFormBody, request.body);
        response.json({ accepted: true });
      });
      const app = createApp({
        logger: silentLogger,
        readinessChecks: [],
        metrics: { contentType: 'text/plain', render: () => Promise.resolve('') },
        routers: [router],
      });
      server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => {
      server.close();
    });

    const post = (body: string): Promise<Response> =>
      fetch(`${base}/free-form`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    it('takes a body nested 32 levels deep', async () => {
      const response = await post(nested(32));
      expect(response.status, await response.clone().text()).to.equal(200);
    });

    it('refuses one level more with a 400 naming where', async () => {
      const problem = await expectProblem(await post(nested(33)), 400);
      expect(problem.errors).to.deep.equal([
        {
          field: `data${'.a'.repeat(31)}`,
          message: `data${'.a'.repeat(31)} is nested deeper than 32 levels`,
        },
      ]);
    });

    it('refuses 1,500 levels of objects or arrays with a 400, not a stack overflow', async () => {
      await expectProblem(await post(nested(1500)), 400);
      await expectProblem(await post(`{"data":${'['.repeat(1500)}${']'.repeat(1500)}}`), 400);
    });
  });

  describe('on the shop’s routes', () => {
    let shop: TestShop;
    let shopper: string;

    before(async () => {
      shop = await startTestShop();
      const admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
      shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
      const created = await shop.call('/api/v1/products', {
        method: 'POST',
        token: admin,
        body: { name: 'Kettle', price: '25.00', initialStock: 10 },
      });
      const { id: productId } = (await created.json()) as { id: string };
      const added = await shop.call('/api/v1/cart/items', {
        method: 'POST',
        token: shopper,
        body: { productId, quantity: 1 },
      });
      expect(added.status).to.equal(200);
    });

    after(async () => {
      await shop.stop();
    });

    /** Places an order with this raw body: refused with a 400 naming `fields`, nothing appended, the cart kept. */
    async function expectOrderRefused(body: string, fields: string[]): Promise<void> {
      const before = await shop.eventCount();
      const problem = await expectProblem(
        await shop.call('/api/v1/orders', {
          method: 'POST',
          token: shopper,
          headers: { 'idempotency-key': randomUUID() },
          body,
        }),
        400,
      );
      expect(fieldsOf(problem)).to.have.members(fields);
      expect(await shop.eventCount(), 'events appended').to.equal(before);
      const cart = (await (await shop.call('/api/v1/cart', { token: shopper })).json()) as {
        itemCount: number;
      };
      expect(cart.itemCount).to.equal(1);
    }

    const order = JSON.stringify({
      shippingAddress: TEST_ADDRESS,
      paymentMethod: { type: 'card', token: 'tok_visa' },
    });
    // JSON.stringify would not write `__proto__` as a key of an object literal, so it is spliced in.
    const withKey = (key: string, where: 'top' | 'address'): string =>
      where === 'top'
        ? order.replace(/^\{/, `{"${key}":{"admin":true},`)
        : order.replace('"shippingAddress":{', `"shippingAddress":{"${key}":{"admin":true},`);

    it('refuses __proto__ and constructor keys as the unknown fields they are, at the top and nested', async () => {
      await expectOrderRefused(withKey('__proto__', 'top'), ['__proto__']);
      await expectOrderRefused(withKey('constructor', 'top'), ['constructor']);
      await expectOrderRefused(withKey('__proto__', 'address'), ['shippingAddress.__proto__']);
      await expectOrderRefused(withKey('constructor', 'address'), ['shippingAddress.constructor']);
    });

    it('refuses an order nested 1,500 levels deep with a 400', async () => {
      await expectOrderRefused(order.replace(/\}$/, `,"extra":${nested(1500)}}`), [
        `extra.data${'.a'.repeat(30)}`,
      ]);
    });
  });
});
