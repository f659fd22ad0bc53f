import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, fieldsOf, startTestShop, TEST_ADDRESS, type TestShop } from '../support/shop.js';

/** What the event store refuses, and control characters no field means: C0, DEL and C1. */
const UNSTORABLE = { nul: 'a\u0000b', loneSurrogate: 'a\ud800b', lowSurrogate: '\udc00' };
const CONTROLS = { bell: 'a\u0007b', escape: 'a\u001bb', delete: 'a\u007fb', c1: 'a\u0085b' };
const LINE_BREAKS = {
  newline: 'a\nb',
  tab: 'a\tb',
  carriageReturn: 'a\rb',
  lineSeparator: 'a\u2028b',
  paragraphSeparator: 'a\u2029b',
};
/** Names that show nothing: only whitespace or invisible characters. */
const BLANKS = ['', ' ', '\u200b', '\u2060', '\ufeff', '\u00a0\u3000', '\u200b \u2060\ufeff'];

const SINGLE_LINE_FAULTS = { ...UNSTORABLE, ...CONTROLS, ...LINE_BREAKS };
const MULTILINE_FAULTS = { ...UNSTORABLE, ...CONTROLS, carriageReturn: LINE_BREAKS.carriageReturn };

describe('Text in request bodies', () => {
  let shop: TestShop;
  let admin: string;
  let productId: string;

  before(async () => {
    shop = await startTestShop();
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name: 'Kettle', price: '25.00', initialStock: 10 },
    });
    expect(created.status).to.equal(201);
    ({ id: productId } = (await created.json()) as { id: string });
  });

  after(async () => {
    await shop.stop();
  });

  /** Sends the body and expects a 400 that names `field` and a store that holds no new event. */
  async function expectRefused(
    path: string,
    options: { method: string; token: string; body: unknown; headers?: Record<string, string> },
    field: string,
  ): Promise<void> {
    const before = await shop.eventCount();
    const problem = await expectProblem(await shop.call(path, options), 400);
    expect(fieldsOf(problem), JSON.stringify(options.body)).to.include(field);
    expect(await shop.eventCount(), 'events appended').to.equal(before);
  }

  const catalogFields = (): {
    path: string;
    method: string;
    base: Record<string, unknown>;
    field: string;
    multiline: boolean;
  }[] => [
    { path: '/api/v1/categories', method: 'POST', base: {}, field: 'name', multiline: false },
    { path: '/api/v1/products', method: 'POST', base: { price: '2.00' }, field: 'name', multiline: false },
    {
      path: '/api/v1/products',
      method: 'POST',
      base: { name: 'Cup', price: '2.00' },
      field: 'description',
      multiline: true,
    },
    {
      path: '/api/v1/products',
      method: 'POST',
      base: { name: 'Cup', price: '2.00' },
      field: 'imageUrl',
      multiline: false,
    },
    { path: `/api/v1/products/${productId}`, method: 'PATCH', base: {}, field: 'name', multiline: false },
    {
      path: `/api/v1/products/${productId}`,
      method: 'PATCH',
      base: {},
      field: 'description',
      multiline: true,
    },
    { path: `/api/v1/products/${productId}`, method: 'PATCH', base: {}, field: 'imageUrl', multiline: false },
  ];

  describe('in the catalog', () => {
    it('refuses NUL, lone surrogates and control characters in every text field, naming it', async () => {
      for (const { path, method, base, field, multiline } of catalogFields()) {
        for (const text of Object.values(multiline ? MULTILINE_FAULTS : SINGLE_LINE_FAULTS)) {
          await expectRefused(path, { method, token: admin, body: { ...base, [field]: text } }, field);
        }
      }
    });

    it('takes tabs and newlines in a description, and emoji anywhere', async () => {
      const created = await shop.call('/api/v1/products', {
        method: 'POST',
        token: admin,
        body: { name: 'Teapot 🫖', price: '30.00', description: 'Holds 1 l.\n\tDishwasher safe.' },
      });
      expect(created.status, await created.clone().text()).to.equal(201);
      const { id } = (await created.json()) as { id: string };
      const product = (await (await shop.call(`/api/v1/products/${id}`)).json()) as Record<string, unknown>;
      expect(product).to.include({ name: 'Teapot 🫖', description: 'Holds 1 l.\n\tDishwasher safe.' });
    });

    it('refuses names that are only whitespace or invisible characters', async () => {
      for (const name of BLANKS) {
        await expectRefused('/api/v1/categories', { method: 'POST', token: admin, body: { name } }, 'name');
        await expectRefused(
          '/api/v1/products',
          { method: 'POST', token: admin, body: { name, price: '1.00' } },
          'name',
        );
        await expectRefused(
          `/api/v1/products/${productId}`,
          { method: 'PATCH', token: admin, body: { name } },
          'name',
        );
      }
    });

    it('refuses such text in a field name too', async () => {
      await expectRefused(
        '/api/v1/categories',
        { method: 'POST', token: admin, body: { name: 'Cups', 'co\u0000lour': 'red' } },
        'co\u0000lour',
      );
    });
  });

  describe('in an order', () => {
    let shopper: string;

    beforeEach(async () => {
      shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
      const added = await shop.call('/api/v1/cart/items', {
        method: 'POST',
        token: shopper,
        body: { productId, quantity: 1 },
      });
      expect(added.status).to.equal(200);
    });

    const placeOrder = (body: unknown, headers: Record<string, string> = {}) => ({
      method: 'POST',
      token: shopper,
      headers: { 'idempotency-key': randomUUID(), ...headers },
      body,
    });

    it('refuses a poisoned card token, naming it, and leaves the cart as it was', async () => {
      await expectRefused(
        '/api/v1/orders',
        placeOrder({ shippingAddress: TEST_ADDRESS, paymentMethod: { type: 'card', token: 'tok_\u0000' } }),
        'paymentMethod.token',
      );
      const cart = (await (await shop.call('/api/v1/cart', { token: shopper })).json()) as {
        items: { productId: string; quantity: number }[];
      };
      expect(cart.items).to.deep.equal([{ ...cart.items[0], productId, quantity: 1 }]);
    });

    /** Orders to TEST_ADDRESS with one field changed: refused, naming it. */
    async function expectAddressRefused(fields: readonly string[], texts: readonly string[]): Promise<void> {
      for (const field of fields) {
        for (const text of texts) {
          const shippingAddress = { ...TEST_ADDRESS, [field]: text };
          const body = { shippingAddress, paymentMethod: { type: 'card', token: 'tok_visa' } };
          await expectRefused('/api/v1/orders', placeOrder(body), `shippingAddress.${field}`);
        }
      }
    }

    it('refuses control characters and lone surrogates in every address field, naming it', async () => {
      await expectAddressRefused(
        ['name', 'line1', 'line2', 'city', 'postalCode'],
        Object.values(SINGLE_LINE_FAULTS),
      );
    });

    it('refuses an address whose required lines are only whitespace or invisible characters', async () => {
      await expectAddressRefused(['name', 'line1', 'city', 'postalCode'], BLANKS);
    });

    it('refuses an Idempotency-Key with a tab in it, naming the header', async () => {
      await expectRefused(
        '/api/v1/orders',
        placeOrder(
          { shippingAddress: TEST_ADDRESS, paymentMethod: { type: 'card', token: 'tok_visa' } },
          { 'idempotency-key': 'first\torder' },
        ),
        'Idempotency-Key',
      );
    });
  });

  describe('in the development issuer', () => {
    it('refuses a subject with a control character or nothing visible in it', async () => {
      for (const sub of ['shopper\u0000', 'shop\nper', '\u200b']) {
        const problem = await expectProblem(
          await shop.call('/dev/token', { method: 'POST', body: { sub, roles: ['customer'] } }),
          400,
        );
        expect(fieldsOf(problem)).to.include('sub');
      }
    });
  });

  describe('in headers and query parameters that reach events', () => {
    it('replaces an X-Request-Id with a control character in it instead of recording it', async () => {
      const response = await shop.call('/api/v1/categories', {
        method: 'POST',
        token: admin,
        headers: { 'x-request-id': 'req\t1' },
        body: { name: 'Mugs' },
      });
      expect(response.status).to.equal(201);
      expect(response.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });

    it('refuses an audit asOf and an export parameter with a control character in it', async () => {
      const auditor = await shop.tokenFor(`auditor-${randomUUID()}`, ['auditor']);
      const analyst = await shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']);
      const asOf = encodeURIComponent('2026-03-01T10:00:00Z\u0000');
      const audit = await expectProblem(
        await shop.call(`/api/v1/audit/orders/${randomUUID()}?asOf=${asOf}`, { token: auditor }),
        400,
      );
      expect(fieldsOf(audit)).to.deep.equal(['asOf']);
      for (const query of ['category=order%00', 'limit=1%0A', 'fromPosition=%E2%80%8B0']) {
        const problem = await expectProblem(
          await shop.call(`/api/v1/events?${query}`, { token: analyst }),
          400,
        );
        expect(fieldsOf(problem)).to.deep.equal([query.split('=')[0]]);
      }
    });
  });
});
