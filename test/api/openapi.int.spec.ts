import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import type { Express } from 'express';
import type { OpenAPIV3_1 } from 'openapi-types';
import { startTestShop, TEST_ADDRESS, type TestShop } from '../support/shop.js';

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** `METHOD /path/{param}` for every route in an express router's stack, mounted routers included. */
function routesOf(stack: readonly RouterLayer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
      return Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${path}`);
    }
    return layer.handle?.stack ? routesOf(layer.handle.stack) : [];
  });
}

function documentedOperations(document: OpenAPIV3_1.Document): string[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item ?? {})
      .filter((key) => ['get', 'put', 'post', 'delete', 'patch'].includes(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/** A JSON pointer token: `/` and `~` escaped. */
const pointer = (token: string): string => token.replaceAll('~', '~0').replaceAll('/', '~1');

describe('The OpenAPI description', () => {
  let shop: TestShop;
  let document: OpenAPIV3_1.Document;
  let ajv: Ajv2020;

  before(async () => {
    shop = await startTestShop();
    document = (await (await shop.call('/openapi.json')).json()) as OpenAPIV3_1.Document;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');
  });

  after(async () => {
    await shop.stop();
  });

  /**
   * Asserts that `path` and `method` document the response's status and that its body matches the
   * schema documented for it.
   */
  async function expectDocumented(response: Response, method: string, path: string): Promise<void> {
    const operation = `${method.toUpperCase()} ${path} ${response.status}`;
    const documented = document.paths?.[path]?.[method as OpenAPIV3_1.HttpMethods]?.responses?.[
      String(response.status)
    ] as OpenAPIV3_1.ResponseObject | undefined;
    expect(documented, `${operation} is documented`).to.be.an('object');
    for (const name of Object.keys(documented?.headers ?? {})) {
      expect(response.headers.has(name), `${operation} answers the header ${name}`).to.equal(true);
    }
    const contentType = response.headers.get('content-type')?.split(';')[0];
    if (!contentType) {
      expect(documented?.content, `${operation} documents no body`).to.equal(undefined);
      return;
    }
    expect(Object.keys(documented?.content ?? {}), operation).to.include(contentType);
    const schemaPointer = [
      'paths',
      pointer(path),
      method,
      'responses',
      String(response.status),
      'content',
      pointer(contentType),
      'schema',
    ].join('/');
    const validate = ajv.getSchema(`openapi.json#/${schemaPointer}`);
    expect(validate, `${operation} has a schema`).to.be.a('function');
    // NDJSON documents the schema of one line.
    const bodies: unknown[] =
      contentType === 'application/x-ndjson'
        ? (await response.text())
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as unknown)
        : [await response.json()];
    for (const body of bodies) {
      expect(validate?.(body), `${operation}: ${ajv.errorsText(validate?.errors)}`).to.equal(true);
    }
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).to.equal('3.1.0');
    await SwaggerParser.validate(structuredClone(document) as never);
  });

  it('describes every route the shop serves, and none it does not', () => {
    const served = routesOf((shop.app() as Express & { router: { stack: RouterLayer[] } }).router.stack);
    expect([...new Set(documentedOperations(document))].sort()).to.deep.equal([...new Set(served)].sort());
  });

  it('is browsable at /docs', async () => {
    const page = await shop.call('/docs');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(await page.text()).to.include('swagger-ui');
    const init = await shop.call('/docs/swagger-ui-init.js');
    expect(await init.text()).to.include('"openapi": "3.1.0"');
    expect((await shop.call('/docs/swagger-ui.css')).status).to.equal(200);
  });

  it('documents the bodies the shop answers, a shopper’s way through it from catalog to order', async () => {
    const admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);

    const category = await shop.call('/api/v1/categories', {
      method: 'POST',
      token: admin,
      body: { name: 'Kitchen' },
    });
    const { id: categoryId } = (await category.clone().json()) as { id: string };
    await expectDocumented(category, 'post', '/api/v1/categories');

    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name: 'Kettle', price: '40.00', categoryId, initialStock: 3, description: 'Boils water' },
    });
    const { id: productId } = (await created.clone().json()) as { id: string };
    await expectDocumented(created, 'post', '/api/v1/products');
    await expectDocumented(
      await shop.call(`/api/v1/products/${productId}`),
      'get',
      '/api/v1/products/{productId}',
    );
    await expectDocumented(
      await shop.call(`/api/v1/products/${productId}`, {
        method: 'PATCH',
        token: admin,
        body: { imageUrl: 'https://img.example.test/kettle.png' },
      }),
      'patch',
      '/api/v1/products/{productId}',
    );
    await expectDocumented(
      await shop.call(`/api/v1/inventory/${productId}/restock`, {
        method: 'POST',
        token: admin,
        body: { quantity: 5 },
      }),
      'post',
      '/api/v1/inventory/{productId}/restock',
    );
    await expectDocumented(
      await shop.call(`/api/v1/inventory/${productId}`, { token: admin }),
      'get',
      '/api/v1/inventory/{productId}',
    );

    await expectDocumented(await shop.call('/api/v1/cart', { token: shopper }), 'get', '/api/v1/cart');
    await expectDocumented(
      await shop.call('/api/v1/cart/items', {
        method: 'POST',
        token: shopper,
        body: { productId, quantity: 1 },
      }),
      'post',
      '/api/v1/cart/items',
    );
    await expectDocumented(
      await shop.call(`/api/v1/cart/items/${productId}`, {
        method: 'PUT',
        token: shopper,
        body: { quantity: 2 },
      }),
      'put',
      '/api/v1/cart/items/{productId}',
    );
    await expectDocumented(
      await shop.call(`/api/v1/cart/items/${randomUUID()}`, { method: 'DELETE', token: shopper }),
      'delete',
      '/api/v1/cart/items/{productId}',
    );

    const placed = await shop.call('/api/v1/orders', {
      method: 'POST',
      token: shopper,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        shippingAddress: TEST_ADDRESS,
        paymentMethod: { type: 'card', token: 'tok_visa' },
      },
    });
    const { orderId } = (await placed.clone().json()) as { orderId: string };
    await expectDocumented(placed, 'post', '/api/v1/orders');
    // Confirmed by the saga first, so that each answer below is the same every run.
    await shop.checkoutsSettled();
    await expectDocumented(
      await shop.call(`/api/v1/orders/${orderId}`, { token: shopper }),
      'get',
      '/api/v1/orders/{orderId}',
    );
    await expectDocumented(
      await shop.call(`/api/v1/orders/${orderId}/ship`, { method: 'POST', token: admin }),
      'post',
      '/api/v1/orders/{orderId}/ship',
    );
    await expectDocumented(
      await shop.call(`/api/v1/orders/${orderId}/cancel`, { method: 'POST', token: shopper }),
      'post',
      '/api/v1/orders/{orderId}/cancel',
    );
    await expectDocumented(
      await shop.call(`/api/v1/orders/${orderId}/deliver`, { method: 'POST', token: admin }),
      'post',
      '/api/v1/orders/{orderId}/deliver',
    );
    await expectDocumented(
      await shop.call(`/api/v1/audit/orders/${orderId}`, { token: admin }),
      'get',
      '/api/v1/audit/orders/{orderId}',
    );
    await expectDocumented(
      await shop.call(`/api/v1/audit/orders/${orderId}?asOf=${new Date().toISOString()}`, { token: admin }),
      'get',
      '/api/v1/audit/orders/{orderId}',
    );
    await expectDocumented(
      await shop.call('/api/v1/events?limit=50', { token: admin }),
      'get',
      '/api/v1/events',
    );
    await expectDocumented(
      await shop.call('/api/v1/events?limit=0', { token: admin }),
      'get',
      '/api/v1/events',
    );
    await expectDocumented(
      await shop.call(`/api/v1/audit/orders/${orderId}?asOf=yesterday`, { token: admin }),
      'get',
      '/api/v1/audit/orders/{orderId}',
    );
    await expectDocumented(
      await shop.call('/api/v1/cart', { method: 'DELETE', token: shopper }),
      'delete',
      '/api/v1/cart',
    );
  });

  it('documents the problems the shop answers', async () => {
    const shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    await expectDocumented(await shop.call('/api/v1/cart'), 'get', '/api/v1/cart');
    await expectDocumented(
      await shop.call('/api/v1/categories', { method: 'POST', token: shopper, body: { name: 'Tools' } }),
      'post',
      '/api/v1/categories',
    );
    await expectDocumented(
      await shop.call(`/api/v1/products/${randomUUID()}`),
      'get',
      '/api/v1/products/{productId}',
    );
    await expectDocumented(
      await shop.call('/api/v1/cart/items', {
        method: 'POST',
        token: shopper,
        body: { productId: 'x', quantity: 0 },
      }),
      'post',
      '/api/v1/cart/items',
    );
    await expectDocumented(
      await shop.call('/api/v1/orders', { method: 'POST', token: shopper, body: {} }),
      'post',
      '/api/v1/orders',
    );
  });

  it('documents the operations endpoints and the development issuer', async () => {
    await expectDocumented(await shop.call('/health/live'), 'get', '/health/live');
    await expectDocumented(await shop.call('/health/ready'), 'get', '/health/ready');
    await expectDocumented(await shop.call('/.well-known/jwks.json'), 'get', '/.well-known/jwks.json');
    await expectDocumented(
      await shop.call('/dev/token', { method: 'POST', body: { sub: 'shopper', roles: ['customer'] } }),
      'post',
      '/dev/token',
    );
  });
});
