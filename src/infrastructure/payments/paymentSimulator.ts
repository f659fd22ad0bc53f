import type pg from 'pg';
import {
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  TransientPaymentError,
} from '../../commands/payment/paymentProvider.js';
import { derivedUuid } from '../../commands/derivedIds.js';

/** How long `tok_slow` keeps the caller waiting, as API.md says. */
export const SLOW_CHARGE_MS = 2_000;

/** The answer each token of API.md gets; undefined for `tok_error`, which never answers. */
function outcomeFor(token: string): ChargeResult['outcome'] | undefined {
  if (token === 'tok_error') return undefined;
  if (token === 'tok_declined' || !token.startsWith('tok_')) return 'declined';
  return 'captured';
}

/**
 * The payment provider of the shop's own profiles. Like a real provider it keeps a ledger (a table
 * of its own) and honours idempotency keys: a key charged once answers that charge again, from any
 * instance and after any restart, and never charges twice.
 */
export class PaymentSimulator implements PaymentProvider {
  constructor(
    private readonly pool: pg.Pool,
    private readonly slowChargeMs = SLOW_CHARGE_MS,
  ) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const outcome = outcomeFor(request.token);
    // A key seen before answers at once, without the wait or the error; for any other token the
    // insert below finds it.
    if (request.token === 'tok_slow' || outcome === undefined) {
      const earlier = await this.answered(request.idempotencyKey);
      if (earlier) return earlier;
    }
    if (request.token === 'tok_slow') await new Promise((resolve) => setTimeout(resolve, this.slowChargeMs));
    if (outcome === undefined)
      throw new TransientPaymentError('the payment provider is unavailable (tok_error)');
    const detail =
      outcome === 'captured' ? `ch_${derivedUuid('charge', request.idempotencyKey)}` : 'card_declined';
    // Two callers with one key: the first row stands, and both answer it.
    const { rowCount } = await this.pool.query(
      `INSERT INTO payment_simulator_charges (idempotency_key, token, amount_cents, outcome, detail)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
      [request.idempotencyKey, request.token, request.amountCents, outcome, detail],
    );
    if (rowCount === 1)
      return outcome === 'captured' ? { outcome, reference: detail } : { outcome, reason: detail };
    return (await this.answered(request.idempotencyKey)) as ChargeResult;
  }

  private async answered(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const { rows } = await this.pool.query<{ outcome: 'captured' | 'declined'; detail: string }>(
      'SELECT outcome, detail FROM payment_simulator_charges WHERE idempotency_key = $1',
      [idempotencyKey],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.outcome === 'captured'
      ? { outcome: 'captured', reference: row.detail }
      : { outcome: 'declined', reason: row.detail };
  }
}
