import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { derivedUuid } from '../../src/commands/derivedIds.js';
import { orderIdFor } from '../../src/commands/order/order.js';
import { PostgresConsumerStore } from '../../src/infrastructure/postgres/postgresConsumerStore.js';
import { postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { openCommandsOn, type PostgresCommands } from '../support/postgresCommands.js';
import {
  expectProblem,
  fieldsOf,
  orderKettles,
  startTestShop,
  TEST_ADDRESS,
  type TestShop,
} from '../support/shop.js';
import { silentLogger } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s consumers -- <args>` on the shop's database. */
function consumers(args: string[], databaseUrl: string): Promise<CommandResult> {
  const { TEST_DATABASE_URL: _test, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '-s', 'consumers', '--', ...args],
      { env: { ...inherited, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const COMPLETER = 'checkout-completer';

describe('A checkout that can never become an order', () => {
  let shop: TestShop;
  let writer: PostgresCommands;
  let consumerStore: PostgresConsumerStore;
  let tokens: { admin: string; shopper: string };

  before(async () => {
    shop = await startTestShop();
    writer = openCommandsOn(shop.connectionString);
    consumerStore = new PostgresConsumerStore({
      pool: writer.pool,
      lockConnection: postgresConnectionConfig(shop.connectionString, 'test-consumers'),
      logger: silentLogger,
    });
    tokens = {
      admin: await shop.tokenFor('root', ['admin']),
      shopper: await shop.tokenFor('shopper', ['customer']),
    };
  });

  after(async () => {
    await writer.close();
    await shop.stop();
  });

  const readiness = async () => (await shop.call('/health/ready')).json() as Promise<Record<string, unknown>>;

  it('is refused at the door with a 400 naming the token, the cart left as it was', async () => {
    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: tokens.admin,
      body: { name: 'Kettle', price: '25.00', initialStock: 3 },
    });
    const { id: productId } = (await created.json()) as { id: string };
    const shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    await shop.call('/api/v1/cart/items', {
      method: 'POST',
      token: shopper,
      body: { productId, quantity: 1 },
    });
    const eventsBefore = await shop.eventCount();
    for (const token of ['tok_\u0000', 'tok_\ud800']) {
      const refused = await shop.call('/api/v1/orders', {
        method: 'POST',
        token: shopper,
        headers: { 'idempotency-key': randomUUID() },
        body: { shippingAddress: TEST_ADDRESS, paymentMethod: { type: 'card', token } },
      });
      expect(fieldsOf(await expectProblem(refused, 400))).to.deep.equal(['paymentMethod.token']);
    }
    expect(await shop.eventCount()).to.equal(eventsBefore);
    const cart = (await (await shop.call('/api/v1/cart', { token: shopper })).json()) as {
      itemCount: number;
    };
    expect(cart.itemCount).to.equal(1);
    expect((await shop.call('/health/ready')).status).to.equal(200);
  });

  it('is parked when stored, readiness stays up and tells it, and later checkouts still become orders', async () => {
    // A checkout recorded with a request the order refuses (no such country): only an older
    // version of the code, or a hand, could have stored it.
    const userId = `shopper-${randomUUID()}`;
    const orderId = orderIdFor(userId, 'poisoned');
    const [data] = await writer.env.streams.encode([
      {
        type: 'CartCheckedOut',
        data: {
          userId,
          orderId,
          items: [{ productId: randomUUID(), productName: 'Kettle', quantity: 1, unitPriceCents: 2500 }],
          totalCents: 2500,
          request: {
            idempotencyKey: 'poisoned',
            requestHash: 'hash',
            shippingAddress: { ...TEST_ADDRESS, country: 'not a country' },
            paymentMethod: { type: 'card', token: 'tok_visa' },
          },
          at: new Date().toISOString(),
        },
      },
    ]);
    await writer.store.append(
      `cart-${userId}`,
      [
        {
          id: derivedUuid('CartCheckedOut', orderId),
          type: 'CartCheckedOut',
          data: data!,
          metadata: {
            actor: userId,
            correlationId: randomUUID(),
            causationId: randomUUID(),
            schemaVersion: 1,
          },
        },
      ],
      'no_stream',
    );
    await waitFor(
      async () => (await consumerStore.parkedCount(COMPLETER)) === 1,
      10_000,
      () => 'not parked',
    );
    const [parked] = await consumerStore.parked(COMPLETER);
    expect(parked).to.include({ streamId: `cart-${userId}`, attempts: 1 });
    expect(parked?.error).to.match(/^ValidationError: /);
    expect(await writer.store.readStream(`order-${orderId}`)).to.deep.equal([]);

    const ready = await shop.call('/health/ready');
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({
      status: 'up',
      details: { [COMPLETER]: '1 event parked' },
    });
    expect(((await readiness()).checks as Record<string, string>)[COMPLETER]).to.equal('degraded');
    const metrics = await (await shop.call('/metrics')).text();
    expect(metrics).to.include(`consumer_parked_events{consumer="${COMPLETER}"} 1`);
    expect(metrics).to.match(new RegExp(`consumer_events_behind\\{consumer="${COMPLETER}"\\} \\d+`));
    expect(metrics).to.match(new RegExp(`consumer_seconds_behind\\{consumer="${COMPLETER}"\\} [\\d.]+`));

    const later = await orderKettles(shop, tokens, 1);
    const [laterCheckout] = (await writer.store.readStream('cart-shopper')).slice(-1);
    await waitFor(
      async () => (await consumerStore.checkpoint(COMPLETER)) >= (laterCheckout?.position ?? Infinity),
      10_000,
      () => 'the completer did not go past the later checkout',
    );
    // The saga may have gone on with it since: what matters is that it was placed.
    const [placed] = await writer.store.readStream(`order-${later}`);
    expect(placed?.type).to.equal('OrderPlaced');
  });

  it('is listed by npm run consumers, and retry-parked leaves it parked while it still fails', async () => {
    const listed = await consumers(['list'], shop.connectionString);
    expect(listed.code, listed.stderr).to.equal(0);
    const [header, row] = listed.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).to.deep.equal([
      'name',
      'checkpoint',
      'behind',
      'parked',
      'active instance',
    ]);
    const cells = row?.split(/\s{2,}/) ?? [];
    expect(cells[0]).to.equal(COMPLETER);
    expect(Number(cells[1])).to.equal(await consumerStore.checkpoint(COMPLETER));
    expect(cells.slice(2, 4)).to.deep.equal(['0', '1']);
    expect(cells[4]).to.match(/^shop-consumer /);

    const retried = await consumers(['retry-parked', COMPLETER], shop.connectionString);
    expect(retried.code).to.equal(1);
    expect(retried.stdout)
      .to.include('0 parked events handled')
      .and.to.include('failed again and stays parked');
    expect(await consumerStore.parkedCount(COMPLETER)).to.equal(1);
  });

  it('refuses an unknown consumer and a malformed command line with exit code 2', async () => {
    const unknown = await consumers(['retry-parked', 'no-such-consumer'], shop.connectionString);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include(`no consumer is named no-such-consumer: ${COMPLETER}`);
    for (const args of [[], ['list', 'extra'], ['retry-parked'], ['--all']]) {
      const refused = await consumers(args, shop.connectionString);
      expect(refused.code, args.join(' ')).to.equal(2);
      expect(refused.stderr).to.include('usage: npm run -s consumers');
    }
  });
});
