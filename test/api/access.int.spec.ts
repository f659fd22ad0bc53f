import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Role } from '../../src/api/auth/authenticate.js';
import { expectProblem, startTestShop, TEST_ADDRESS, type TestShop } from '../support/shop.js';

const someId = randomUUID();

/** Every protected route of the API, with the roles that may call it. */
const protectedRoutes: { method: string; path: string; roles: Role[] }[] = [
  { method: 'POST', path: '/api/v1/categories', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/products', roles: ['admin'] },
  { method: 'PATCH', path: `/api/v1/products/${someId}`, roles: ['admin'] },
  { method: 'POST', path: `/api/v1/inventory/${someId}/restock`, roles: ['admin'] },
  { method: 'GET', path: `/api/v1/inventory/${someId}`, roles: ['admin'] },
  { method: 'GET', path: '/api/v1/cart', roles: ['customer'] },
  { method: 'POST', path: '/api/v1/cart/items', roles: ['customer'] },
  { method: 'PUT', path: `/api/v1/cart/items/${someId}`, roles: ['customer'] },
  { method: 'DELETE', path: `/api/v1/cart/items/${someId}`, roles: ['customer'] },
  { method: 'DELETE', path: '/api/v1/cart', roles: ['customer'] },
  { method: 'POST', path: '/api/v1/orders', roles: ['customer'] },
  { method: 'GET', path: `/api/v1/orders/${someId}`, roles: ['customer', 'admin'] },
  { method: 'POST', path: `/api/v1/orders/${someId}/cancel`, roles: ['customer', 'admin'] },
  { method: 'POST', path: `/api/v1/orders/${someId}/ship`, roles: ['admin'] },
  { method: 'POST', path: `/api/v1/orders/${someId}/deliver`, roles: ['admin'] },
  { method: 'GET', path: `/api/v1/audit/orders/${someId}`, roles: ['auditor', 'admin'] },
  { method: 'GET', path: '/api/v1/events', roles: ['analyst', 'admin'] },
];

const everyRole: Role[] = ['customer', 'admin', 'analyst', 'auditor'];

/** An empty JSON body where the method takes one. */
const bodyFor = (method: string): { body?: object } => (method === 'GET' ? {} : { body: {} });

describe('Access to every protected route', () => {
  let shop: TestShop;
  const tokens = new Map<Role, string>();

  before(async () => {
    shop = await startTestShop();
    for (const role of everyRole) tokens.set(role, await shop.tokenFor(`${role}-${randomUUID()}`, [role]));
  });

  after(async () => {
    await shop.stop();
  });

  it('answers 401 with a Bearer challenge to a request without a token, and writes nothing', async () => {
    for (const { method, path } of protectedRoutes) {
      const response = await shop.call(path, { method, ...bodyFor(method) });
      await expectProblem(response, 401);
      expect(response.headers.get('www-authenticate'), `${method} ${path}`).to.match(/^Bearer realm="shop"/);
    }
    expect(await shop.eventCount()).to.equal(0);
  });

  it('answers 401 to a garbage token', async () => {
    for (const { method, path } of protectedRoutes) {
      await expectProblem(await shop.call(path, { method, ...bodyFor(method), token: 'garbage' }), 401);
    }
  });

  it('answers 403 to every role the route does not admit, and writes nothing', async () => {
    for (const { method, path, roles } of protectedRoutes) {
      for (const role of everyRole.filter((candidate) => !roles.includes(candidate))) {
        const response = await shop.call(path, {
          method,
          ...bodyFor(method),
          token: tokens.get(role) as string,
        });
        const problem = await expectProblem(response, 403);
        expect(problem.detail, `${role} on ${method} ${path}`).to.match(/requires the role/);
      }
    }
    expect(await shop.eventCount()).to.equal(0);
  });

  it('lets each admitted role past authentication', async () => {
    for (const { method, path, roles } of protectedRoutes) {
      for (const role of roles) {
        const response = await shop.call(path, {
          method,
          ...bodyFor(method),
          token: tokens.get(role) as string,
        });
        expect([401, 403], `${role} on ${method} ${path}`).not.to.include(response.status);
      }
    }
  });
});

describe('Bad bodies on every route that takes one', () => {
  let shop: TestShop;
  const tokens = new Map<Role, string>();
  const bodyRoutes = protectedRoutes.filter(
    ({ method, path }) => method !== 'GET' && method !== 'DELETE' && !/\/(cancel|ship|deliver)$/.test(path),
  );

  before(async () => {
    shop = await startTestShop();
    for (const role of everyRole) tokens.set(role, await shop.tokenFor(`${role}-${randomUUID()}`, [role]));
  });

  after(async () => {
    await shop.stop();
  });

  const send = (route: (typeof protectedRoutes)[number], body: string, contentType = 'application/json') =>
    shop.call(route.path, {
      method: route.method,
      body,
      token: tokens.get(route.roles[0] as Role) as string,
      headers: { 'content-type': contentType, 'idempotency-key': randomUUID() },
    });

  const cases: { name: string; body: string; contentType?: string; status: number }[] = [
    { name: 'malformed JSON', body: '{"name":', status: 400 },
    { name: 'a JSON array', body: '[]', status: 400 },
    { name: 'a JSON string', body: '"name"', status: 400 },
    { name: 'a form body', body: 'name=cup', contentType: 'application/x-www-form-urlencoded', status: 415 },
    { name: 'a 200 kB body', body: JSON.stringify({ name: 'x'.repeat(200_000) }), status: 413 },
  ];

  /** A body each route would take, so that the one unknown field added to it is what is refused. */
  const validBodies: Record<string, object> = {
    'POST /api/v1/categories': { name: 'Tools' },
    'POST /api/v1/products': { name: 'Cup', price: '1.00' },
    [`PATCH /api/v1/products/${someId}`]: { name: 'Mug' },
    [`POST /api/v1/inventory/${someId}/restock`]: { quantity: 1 },
    'POST /api/v1/cart/items': { productId: someId, quantity: 1 },
    [`PUT /api/v1/cart/items/${someId}`]: { quantity: 1 },
    'POST /api/v1/orders': {
      shippingAddress: TEST_ADDRESS,
      paymentMethod: { type: 'card', token: 'tok_visa' },
    },
  };

  it('answers a valid body with one unknown field 400 on each, naming the field, and writes nothing', async () => {
    for (const route of bodyRoutes) {
      const valid = validBodies[`${route.method} ${route.path}`];
      expect(valid, `a valid body for ${route.method} ${route.path}`).to.be.an('object');
      const problem = await expectProblem(
        await send(route, JSON.stringify({ ...valid, unexpected: 1 })),
        400,
      );
      expect(problem.errors, `${route.method} ${route.path}`).to.deep.equal([
        { field: 'unexpected', message: 'property unexpected should not exist' },
      ]);
    }
    expect(await shop.eventCount()).to.equal(0);
  });

  for (const { name, body, contentType, status } of cases) {
    it(`answers ${name} with ${status} on each, and writes nothing`, async () => {
      for (const route of bodyRoutes) {
        const response = await send(route, body, contentType);
        expect(response.status, `${route.method} ${route.path}`).to.equal(status);
        await expectProblem(response, status);
      }
      expect(await shop.eventCount()).to.equal(0);
    });
  }
});
