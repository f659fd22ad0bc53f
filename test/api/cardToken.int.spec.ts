import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { waitFor } from '../support/waitFor.js';
import { ERASED } from '../../src/domain/personalData.js';
import type { JsonObject, JsonValue, RecordedEvent } from '../../src/eventstore/eventStore.js';
import { EventCodec } from '../../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../../src/infrastructure/personalData/personalDataVault.js';
import { parseNdjson } from '../support/ndjson.js';
import { openCommandsOn, type PostgresCommands } from '../support/postgresCommands.js';
import { orderKettles, startTestShop, TEST_ADDRESS, type TestShop } from '../support/shop.js';

const CARD_TOKEN = 'tok_visa_secret123';
const MASKED = 'tok_…123';
// The part of the token a masked form never shows: found anywhere, the token leaked.
const HIDDEN = 'visa_secret';

interface Line {
  streamId: string;
  type: string;
  data: Record<string, unknown>;
}

interface History {
  events: { type: string; data: Record<string, unknown> }[];
  verified: boolean;
}

const run = promisify(execFile);

describe('A card token', () => {
  let shop: TestShop;
  let database: PostgresCommands;
  let vault: PersonalDataVault;
  let codec: EventCodec;
  let admin: string;
  let analyst: string;
  let auditor: string;
  let shopper: { userId: string; token: string };
  let orderId: string;

  const newShopper = async () => {
    const userId = `shopper-${randomUUID()}`;
    return { userId, token: await shop.tokenFor(userId, ['customer']) };
  };

  before(async () => {
    shop = await startTestShop();
    database = openCommandsOn(shop.connectionString);
    vault = new PersonalDataVault(database.pool);
    codec = new EventCodec(database.store, vault);
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    analyst = await shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']);
    auditor = await shop.tokenFor(`auditor-${randomUUID()}`, ['auditor']);
    shopper = await newShopper();
    orderId = await orderKettles(shop, { admin, shopper: shopper.token }, 2, {}, CARD_TOKEN);
  });

  after(async () => {
    await database.close();
    await shop.stop();
  });

  const exported = async (): Promise<string> => {
    const response = await shop.call('/api/v1/events?limit=10000', { token: analyst });
    expect(response.status).to.equal(200);
    return response.text();
  };

  const exportedEvent = (ndjson: string, streamId: string, type: string): Record<string, unknown> => {
    const line = parseNdjson<Line>(ndjson).find(
      (event) => event.streamId === streamId && event.type === type,
    );
    expect(line, `${type} in ${streamId}`).to.not.equal(undefined);
    return line?.data ?? {};
  };

  const audited = async (id: string): Promise<{ text: string; history: History }> => {
    const response = await shop.call(`/api/v1/audit/orders/${id}`, { token: auditor });
    expect(response.status).to.equal(200);
    const text = await response.text();
    return { text, history: JSON.parse(text) as History };
  };

  const storedData = async (streamId: string, type: string): Promise<Record<string, unknown>> => {
    const { rows } = await database.pool.query<{ data: string }>(
      'SELECT data::text FROM es_events WHERE stream_id = $1 AND type = $2',
      [streamId, type],
    );
    expect(rows, `${type} in ${streamId}`).to.have.length(1);
    return JSON.parse(rows[0]?.data ?? '{}') as Record<string, unknown>;
  };

  /** A stream as commands and the checkout saga read it: personal data opened. */
  const opened = async (streamId: string): Promise<RecordedEvent[]> =>
    codec.revealAll(await database.store.readStream(streamId));

  const checkoutRequest = async (userId: string) =>
    (await opened(`cart-${userId}`)).find((event) => event.type === 'CartCheckedOut')?.data.request;

  it('is stored in no event in clear, sealed with the payment method in the order and the checkout', async () => {
    const { rows } = await database.pool.query<{ data: string }>('SELECT data::text FROM es_events');
    expect(rows.length).to.be.above(3);
    for (const { data } of rows) expect(data).not.to.include(HIDDEN);

    const placed = await storedData(`order-${orderId}`, 'OrderPlaced');
    expect(placed.paymentMethod).to.have.key('$sealed');
    const checkout = await storedData(`cart-${shopper.userId}`, 'CartCheckedOut');
    expect(checkout.request).to.have.key('$sealed');
  });

  it('reads in clear inside the shop, where commands and the saga read streams opened', async () => {
    const events = await opened(`order-${orderId}`);
    expect(events[0]?.type).to.equal('OrderPlaced');
    expect(events[0]?.data.paymentMethod).to.deep.equal({ type: 'card', token: CARD_TOKEN });
    expect(await checkoutRequest(shopper.userId)).to.deep.include({
      paymentMethod: { type: 'card', token: CARD_TOKEN },
    });
  });

  it('shows only masked in GET /api/v1/events, in the order and in the checkout', async () => {
    const ndjson = await exported();
    expect(ndjson).not.to.include(HIDDEN);
    expect(exportedEvent(ndjson, `order-${orderId}`, 'OrderPlaced').paymentMethod).to.deep.equal({
      type: 'card',
      token: MASKED,
    });
    const checkout = exportedEvent(ndjson, `cart-${shopper.userId}`, 'CartCheckedOut');
    expect(checkout.request).to.deep.include({ paymentMethod: { type: 'card', token: MASKED } });
  });

  it('shows only masked in npm run events:export', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'events:export', '--', '--from', '0'], {
      env: { ...process.env, DATABASE_URL: shop.connectionString, LOG_LEVEL: 'warn' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stdout).not.to.include(HIDDEN);
    expect(exportedEvent(stdout, `order-${orderId}`, 'OrderPlaced').paymentMethod).to.deep.equal({
      type: 'card',
      token: MASKED,
    });
  });

  it('shows only masked in the audit view, whose hash chain still verifies', async () => {
    const { text, history } = await audited(orderId);
    expect(text).not.to.include(HIDDEN);
    expect(history.verified).to.equal(true);
    expect(history.events[0]?.data.paymentMethod).to.deep.equal({ type: 'card', token: MASKED });
    expect(history.events[0]?.data.shippingAddress).to.deep.include(TEST_ADDRESS);
  });

  it('is no part of the order as its customer, or an auditor at an instant, sees it', async () => {
    const order = await shop.call(`/api/v1/orders/${orderId}`, { token: shopper.token });
    expect(order.status).to.equal(200);
    const body = await order.text();
    expect(body).not.to.include(HIDDEN).and.not.to.include('tok_');
    expect(JSON.parse(body)).to.not.have.property('paymentMethod');

    const asOf = encodeURIComponent(new Date().toISOString());
    const then = await shop.call(`/api/v1/audit/orders/${orderId}?asOf=${asOf}`, { token: auditor });
    expect(then.status).to.equal(200);
    expect(await then.text())
      .not.to.include(HIDDEN)
      .and.not.to.include('tok_');
  });

  describe('in an order placed before tokens were sealed', () => {
    const oldOrderId = randomUUID();
    const owner = `shopper-${randomUUID()}`;

    before(async () => {
      // What the shop wrote then: the address and the digest sealed, the payment method in clear.
      const data: JsonObject = {
        orderId: oldOrderId,
        userId: owner,
        items: [{ productId: randomUUID(), productName: 'Kettle', quantity: 2, unitPriceCents: 2500 }],
        totalCents: 5000,
        shippingAddress: (await vault.sealAll(owner, [{ ...TEST_ADDRESS, line2: null }]))[0] as JsonValue,
        paymentMethod: { type: 'card', token: CARD_TOKEN },
        idempotencyKey: 'before-sealing',
        requestHash: (await vault.sealAll(owner, ['f'.repeat(64)]))[0] as JsonValue,
        placedAt: '2026-01-05T10:00:00.000Z',
        expiresAt: '2026-01-05T10:30:00.000Z',
      };
      const metadata = {
        actor: owner,
        correlationId: randomUUID(),
        causationId: randomUUID(),
        schemaVersion: 1,
      };
      await database.store.append(
        `order-${oldOrderId}`,
        [{ id: randomUUID(), type: 'OrderPlaced', data, metadata }],
        'no_stream',
      );
    });

    it('still reads, the token in clear to the readers inside the shop', async () => {
      const events = await opened(`order-${oldOrderId}`);
      expect(events[0]?.data).to.deep.include({
        paymentMethod: { type: 'card', token: CARD_TOKEN },
        shippingAddress: { ...TEST_ADDRESS, line2: null },
      });
    });

    it('shows it only masked in the export and the audit view', async () => {
      const ndjson = await exported();
      expect(exportedEvent(ndjson, `order-${oldOrderId}`, 'OrderPlaced').paymentMethod).to.deep.equal({
        type: 'card',
        token: MASKED,
      });
      const { history } = await audited(oldOrderId);
      expect(history.events[0]?.data.paymentMethod).to.deep.equal({ type: 'card', token: MASKED });
      expect(history.verified).to.equal(true);
    });
  });

  describe('once its owner is forgotten', () => {
    let forgotten: { userId: string; token: string };
    let forgottenOrderId: string;

    before(async () => {
      forgotten = await newShopper();
      forgottenOrderId = await orderKettles(shop, { admin, shopper: forgotten.token }, 1, {}, CARD_TOKEN);
      await vault.forget(forgotten.userId);
      // Forgotten by another process: the shop drops the key it keeps once the notification comes.
      await waitFor(
        async () => (await audited(forgottenOrderId)).history.events[0]?.data.paymentMethod === ERASED,
        5_000,
        () => 'the shop never heard of the erasure',
      );
    });

    it('is erased for every reader, those inside the shop included', async () => {
      const events = await opened(`order-${forgottenOrderId}`);
      expect(events[0]?.data.paymentMethod).to.equal(ERASED);
      expect(await checkoutRequest(forgotten.userId)).to.equal(ERASED);
    });

    it('shows as erased in the export and the audit view, whose chain still verifies', async () => {
      const ndjson = await exported();
      expect(exportedEvent(ndjson, `order-${forgottenOrderId}`, 'OrderPlaced').paymentMethod).to.equal(
        ERASED,
      );
      expect(exportedEvent(ndjson, `cart-${forgotten.userId}`, 'CartCheckedOut').request).to.equal(ERASED);
      const { history } = await audited(forgottenOrderId);
      expect(history.events[0]?.data.paymentMethod).to.equal(ERASED);
      expect(history.verified).to.equal(true);
    });

    it("leaves another customer's token as it was", async () => {
      const events = await opened(`order-${orderId}`);
      expect(events[0]?.data.paymentMethod).to.deep.equal({ type: 'card', token: CARD_TOKEN });
    });
  });
});
