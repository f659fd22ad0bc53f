import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { startTestShop, type TestShop } from '../support/shop.js';
import { waitFor } from '../support/waitFor.js';

describe('A shop starting with a newer projector than its read model was built by', () => {
  let shop: TestShop;
  let sql: pg.Client;

  before(async () => {
    shop = await startTestShop();
    sql = new pg.Client({ connectionString: shop.connectionString });
    await sql.connect();
  });

  after(async () => {
    await sql.end();
    await shop.stop();
  });

  const listed = async (name: string, position = '0'): Promise<string[]> => {
    const response = await shop.call(`/api/v1/products?search=${encodeURIComponent(name)}`, {
      headers: { 'x-min-position': position },
    });
    return ((await response.json()) as { items: { name: string }[] }).items.map((item) => item.name);
  };

  it('records the version it built each read model with, and rebuilds one whose projector is newer', async () => {
    const admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const name = `Lamp ${randomUUID()}`;
    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name, price: '12.00' },
    });
    expect(created.status).to.equal(201);
    expect(await listed(name, created.headers.get('x-event-position') ?? '0')).to.deep.equal([name]);
    const { rows: versions } = await sql.query('SELECT name, version FROM projection_versions ORDER BY name');
    expect(versions).to.deep.equal([
      { name: 'catalog', version: 1 },
      { name: 'orders', version: 1 },
      { name: 'sales', version: 1 },
    ]);

    // As if an older catalog projector had built it, one that left products out.
    await sql.query("UPDATE projection_versions SET version = 0 WHERE name = 'catalog'");
    await sql.query('DELETE FROM catalog.products');
    await shop.restart();
    await waitFor(
      async () =>
        (
          await sql.query<{ version: number }>(
            "SELECT version FROM projection_versions WHERE name = 'catalog'",
          )
        ).rows[0]?.version === 1,
      20_000,
      () => 'the catalog was never rebuilt',
    );
    expect(await listed(name)).to.deep.equal([name]);
  });
});
