import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, fieldsOf, startTestShop, type TestShop } from '../../support/shop.js';

interface Listed {
  id: string;
  name: string;
  price: string;
  categoryId: string | null;
  active: boolean;
  availableQuantity: number;
}

interface ProductPage {
  items: Listed[];
  page: number;
  size: number;
  totalItems: number;
  totalPages: number;
}

describe('Listing and searching the catalog over HTTP', () => {
  let shop: TestShop;
  let admin: string;
  /** Every product of this spec is in a category of its own, so that lists can be filtered to them. */
  let category: string;
  /** The position of the last command sent: reads ask for it with X-Min-Position. */
  let written = '0';

  before(async () => {
    shop = await startTestShop();
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    category = await createCategory(`Spec ${randomUUID()}`);
  });

  after(async () => {
    await shop.stop();
  });

  async function command(path: string, body: unknown, method = 'POST'): Promise<Record<string, unknown>> {
    const response = await shop.call(path, { method, token: admin, body });
    expect(response.status, await response.clone().text()).to.be.oneOf([200, 201]);
    written = response.headers.get('x-event-position') ?? written;
    return (await response.json()) as Record<string, unknown>;
  }

  async function createCategory(name: string): Promise<string> {
    return String((await command('/api/v1/categories', { name })).id);
  }

  async function createProduct(body: Record<string, unknown>): Promise<string> {
    return String((await command('/api/v1/products', { price: '10.00', categoryId: category, ...body })).id);
  }

  /** The list as of every command sent so far. */
  async function list(query: string): Promise<ProductPage> {
    const response = await shop.call(`/api/v1/products?${query}`, { headers: { 'x-min-position': written } });
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(BigInt(response.headers.get('x-projection-position') ?? '-1') >= BigInt(written)).to.equal(true);
    return (await response.json()) as ProductPage;
  }

  const mine = (query = '') => list(`categoryId=${category}${query ? `&${query}` : ''}`);
  const names = (page: ProductPage) => page.items.map((item) => item.name);

  describe('searching', () => {
    let word: string;
    before(async () => {
      word = `zanzibar${randomUUID().slice(0, 8)}`;
      await createProduct({ name: 'Plain mug', description: `Goes with a ${word} teapot` });
      await createProduct({ name: `The ${word} teapot`, description: 'Porcelain' });
      await createProduct({ name: 'Saucer', description: 'Nothing to do with it' });
    });

    it('ranks a product with the word in its name above one with it only in its description', async () => {
      const page = await list(`search=${word}`);
      expect(names(page)).to.deep.equal([`The ${word} teapot`, 'Plain mug']);
      expect(page.totalItems).to.equal(2);
    });

    for (const hostile of [`'`, `"`, `&|!:*`, `'; DROP TABLE catalog.products; --`, `\\`, `(((`, `:*`]) {
      it(`answers 200 with no leak for the search ${JSON.stringify(hostile)}`, async () => {
        const response = await shop.call(`/api/v1/products?search=${encodeURIComponent(hostile)}`);
        expect(response.status).to.equal(200);
        const text = await response.text();
        expect(text).not.to.match(/sql|syntax|postgres|tsquery|error/i);
        expect((JSON.parse(text) as ProductPage).items).to.be.an('array');
      });
    }

    it('refuses a search with a control character or over 200 characters, naming it', async () => {
      for (const search of ['a\u0000b', 'x'.repeat(201)]) {
        const problem = await expectProblem(
          await shop.call(`/api/v1/products?search=${encodeURIComponent(search)}`),
          400,
        );
        expect(fieldsOf(problem)).to.deep.equal(['search']);
      }
    });
  });

  describe('what is listed', () => {
    it('leaves out inactive products, and lists them again once active', async () => {
      const name = `Lamp ${randomUUID()}`;
      const id = await createProduct({ name });
      await command(`/api/v1/products/${id}`, { active: false }, 'PATCH');
      expect(names(await list(`search=${encodeURIComponent(name)}`))).to.deep.equal([]);
      await command(`/api/v1/products/${id}`, { active: true }, 'PATCH');
      expect(names(await list(`search=${encodeURIComponent(name)}`))).to.deep.equal([name]);
    });

    it('shows a product as it was changed, with its stock available', async () => {
      const id = await createProduct({ name: `Kettle ${randomUUID()}`, initialStock: 7 });
      await command(`/api/v1/products/${id}`, { price: '31.50', name: 'Renamed kettle' }, 'PATCH');
      await command(`/api/v1/inventory/${id}/restock`, { quantity: 3 });
      const listed = (await mine('size=100')).items.find((item) => item.id === id);
      expect(listed).to.deep.include({
        name: 'Renamed kettle',
        price: '31.50',
        categoryId: category,
        active: true,
        availableQuantity: 10,
      });
    });

    it('lists the categories by name', async () => {
      const names = [`B ${randomUUID()}`, `A ${randomUUID()}`];
      for (const name of names) await createCategory(name);
      const response = await shop.call('/api/v1/categories', { headers: { 'x-min-position': written } });
      const categories = (await response.json()) as { id: string; name: string }[];
      const ours = categories.filter((listed) => names.includes(listed.name)).map((listed) => listed.name);
      expect(ours).to.deep.equal([...names].sort());
    });
  });

  describe('sorting and paging', () => {
    let sorted: string;
    before(async () => {
      sorted = await createCategory(`Sorted ${randomUUID()}`);
      for (const [name, price] of [
        ['Cherry', '3.00'],
        ['apple', '1.00'],
        ['Banana', '2.00'],
        ['Damson', '4.00'],
        ['Elder', '5.00'],
      ])
        await createProduct({ name, price, categoryId: sorted });
    });

    const inSorted = (query: string) => list(`categoryId=${sorted}&${query}`);

    it('sorts by price, name or creation, either way', async () => {
      expect(names(await inSorted('sortBy=price&sortDir=DESC'))).to.deep.equal([
        'Elder',
        'Damson',
        'Cherry',
        'Banana',
        'apple',
      ]);
      const byCreation = (await inSorted('sortBy=createdAt&sortDir=DESC')).items as (Listed & {
        createdAt: string;
      })[];
      const instants = byCreation.map((item) => item.createdAt);
      expect(instants).to.deep.equal([...instants].sort().reverse());
      expect(byCreation.map((item) => item.name)).to.have.members([
        'Cherry',
        'apple',
        'Banana',
        'Damson',
        'Elder',
      ]);
      const byName = names(await inSorted('sortBy=name&sortDir=ASC'));
      expect(byName).to.have.members(['Cherry', 'apple', 'Banana', 'Damson', 'Elder']);
      expect(names(await inSorted('sortBy=name&sortDir=DESC'))).to.deep.equal([...byName].reverse());
    });

    it('pages without repeating or skipping, telling the totals', async () => {
      const pages = [
        await inSorted('sortBy=price&size=2&page=0'),
        await inSorted('sortBy=price&size=2&page=1'),
      ];
      const last = await inSorted('sortBy=price&size=2&page=2');
      expect([...pages, last].flatMap(names)).to.deep.equal(['apple', 'Banana', 'Cherry', 'Damson', 'Elder']);
      expect(last).to.deep.include({ page: 2, size: 2, totalItems: 5, totalPages: 3 });
      const beyond = await inSorted('sortBy=price&size=2&page=9');
      expect(beyond).to.deep.include({ items: [], page: 9, totalItems: 5, totalPages: 3 });
    });

    const refused: [string, string][] = [
      ['size=101', 'size'],
      ['size=0', 'size'],
      ['page=-1', 'page'],
      ['page=x', 'page'],
      ['sortBy=rating', 'sortBy'],
      ['sortDir=up', 'sortDir'],
      ['sortDir=asc', 'sortDir'],
      ['categoryId=kitchen', 'categoryId'],
      ['size=1&size=2', 'size'],
      ['colour=red', 'colour'],
    ];
    for (const [query, field] of refused) {
      it(`answers ${query} with 400 naming ${field}`, async () => {
        const problem = await expectProblem(await shop.call(`/api/v1/products?${query}`), 400);
        expect(fieldsOf(problem)).to.deep.equal([field]);
      });
    }

    it('answers an unknown parameter of the categories with 400', async () => {
      const problem = await expectProblem(await shop.call('/api/v1/categories?page=0'), 400);
      expect(fieldsOf(problem)).to.deep.equal(['page']);
    });
  });
});
