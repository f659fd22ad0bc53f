import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import { TransientPaymentError } from '../../../src/commands/payment/paymentProvider.js';
import { PaymentSimulator } from '../../../src/infrastructure/payments/paymentSimulator.js';
import { createPool } from '../../../src/infrastructure/postgres/database.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../support/testDatabase.js';

describe('The payment provider simulator', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let simulator: PaymentSimulator;

  before(async () => {
    database = await createTestDatabase();
    // The shop's pool, which hears of its clients' errors: pool.end() answers before the clients it
    // ends have gone, and dropping the database then cuts them off.
    pool = createPool(database.connectionString, silentLogger);
    simulator = new PaymentSimulator(pool, 20);
  });

  after(async () => {
    await pool.end();
    await database.drop();
  });

  const charge = (token: string, idempotencyKey: string = randomUUID(), amountCents = 2500) =>
    simulator.charge({ idempotencyKey, token, amountCents });

  const ledgerRows = async (idempotencyKey: string): Promise<number> =>
    Number(
      (
        await pool.query<{ count: string }>(
          'SELECT count(*) FROM payment_simulator_charges WHERE idempotency_key = $1',
          [idempotencyKey],
        )
      ).rows[0]?.count,
    );

  describe('by card token', () => {
    for (const token of ['tok_visa', 'tok_mastercard', 'tok_slow']) {
      it(`captures ${token}`, async () => {
        expect(await charge(token)).to.deep.include({ outcome: 'captured' });
      });
    }

    for (const token of ['tok_declined', 'card_4242', '']) {
      it(`declines ${JSON.stringify(token)}`, async () => {
        expect(await charge(token)).to.deep.equal({ outcome: 'declined', reason: 'card_declined' });
      });
    }

    it('errs on tok_error every time, with an error that may pass, and records nothing', async () => {
      const key = randomUUID();
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const error = await charge('tok_error', key).catch((failure: unknown) => failure);
        expect(error).to.be.instanceOf(TransientPaymentError);
      }
      expect(await ledgerRows(key)).to.equal(0);
    });
  });

  describe('with an idempotency key it has seen', () => {
    it('answers the first result again and charges once', async () => {
      const key = randomUUID();
      const first = await charge('tok_visa', key);
      const again = await charge('tok_declined', key, 9900);
      expect(again).to.deep.equal(first);
      expect(await ledgerRows(key)).to.equal(1);
    });

    it('answers one result to concurrent calls, from a ledger of one row', async () => {
      const key = randomUUID();
      const answers = await Promise.all(Array.from({ length: 10 }, () => charge('tok_visa', key)));
      expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).to.equal(1);
      expect(await ledgerRows(key)).to.equal(1);
    });

    it('answers another simulator on the same ledger the same, as after a restart', async () => {
      const key = randomUUID();
      const first = await charge('tok_visa', key);
      expect(
        await new PaymentSimulator(pool, 20).charge({
          idempotencyKey: key,
          token: 'tok_visa',
          amountCents: 2500,
        }),
      ).to.deep.equal(first);
    });
  });
});
