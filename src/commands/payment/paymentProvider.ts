import type { Cents } from '../../domain/shared/money.js';

export interface ChargeRequest {
  /** The same key asks for the same charge: the provider answers its first result again. */
  idempotencyKey: string;
  token: string;
  amountCents: Cents;
}

export type ChargeResult =
  { outcome: 'captured'; reference: string } | { outcome: 'declined'; reason: string };

/** The provider erred in a way that may pass: the same charge may be asked again later. */
export class TransientPaymentError extends Error {
  override readonly name = 'TransientPaymentError';
}

/**
 * Where cards are charged: the simulator here, a real provider in its place. `charge` answers
 * captured or declined, and throws `TransientPaymentError` (or any error) when it cannot tell.
 */
export interface PaymentProvider {
  charge(request: ChargeRequest): Promise<ChargeResult>;
}
