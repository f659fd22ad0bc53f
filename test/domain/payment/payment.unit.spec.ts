import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type PaymentEvent,
  paymentStatusCode,
  paymentStreamId,
  paymentView,
} from '../../../src/domain/payment/payment.js';
import { type PaymentCommand, paymentDecider } from '../../../src/domain/payment/payment.decide.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { NotFound, RuleViolation, ValidationError } from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const requestedAt = '2025-03-01T10:00:00.000Z';
const at = '2025-03-01T10:00:02.000Z';
const later = '2025-03-03T16:00:00.000Z';

/** Commands and events for the payment of one order, so each test gets its own stream. */
function paymentOf(orderId = randomUUID()) {
  const userId = randomUUID();
  const amountCents = 3448;
  const providerReference = `ch_${randomUUID()}`;
  return {
    orderId,
    userId,
    amountCents,
    providerReference,
    request: (amount = amountCents, token = 'tok_visa'): PaymentCommand => ({
      type: 'RequestPayment',
      orderId,
      userId,
      amountCents: amount,
      token,
      now: requestedAt,
    }),
    capture: (reference = providerReference): PaymentCommand => ({
      type: 'CapturePayment',
      orderId,
      providerReference: reference,
      now: at,
    }),
    decline: (reason = 'card_declined'): PaymentCommand => ({
      type: 'DeclinePayment',
      orderId,
      reason,
      now: at,
    }),
    fail: (reason = 'provider_unavailable'): PaymentCommand => ({
      type: 'FailPayment',
      orderId,
      reason,
      now: at,
    }),
    failAttempt: (attempt: number, reason = 'provider_timeout', now = at): PaymentCommand => ({
      type: 'RecordFailedAttempt',
      orderId,
      attempt,
      reason,
      now,
    }),
    refund: (amount: number, now = later): PaymentCommand => ({
      type: 'RefundPayment',
      orderId,
      amountCents: amount,
      now,
    }),
    refundInFull: (now = later): PaymentCommand => ({ type: 'RefundInFull', orderId, now }),
    requested: (amount = amountCents): PaymentEvent => ({
      type: 'PaymentRequested',
      data: { orderId, userId, amountCents: amount, token: 'tok_visa', at: requestedAt },
    }),
    captured: (amount = amountCents): PaymentEvent => ({
      type: 'PaymentCaptured',
      data: { orderId, amountCents: amount, providerReference, at },
    }),
    declined: (reason = 'card_declined'): PaymentEvent => ({
      type: 'PaymentDeclined',
      data: { orderId, reason, at },
    }),
    failed: (reason = 'provider_unavailable'): PaymentEvent => ({
      type: 'PaymentFailed',
      data: { orderId, reason, at },
    }),
    attemptFailed: (attempt: number, reason = 'provider_timeout', when = at): PaymentEvent => ({
      type: 'PaymentAttemptFailed',
      data: { orderId, attempt, reason, at: when },
    }),
    refunded: (amount: number, refundedCents: number, when = later): PaymentEvent => ({
      type: 'PaymentRefunded',
      data: { orderId, amountCents: amount, refundedCents, at: when },
    }),
  };
}

const badAmounts = [0, -100, 12.5, Number.NaN, Number.POSITIVE_INFINITY];

describe('Payment', () => {
  describe('when not requested', () => {
    it('is requested for the order, its customer, the amount and the card token', () => {
      const payment = paymentOf();
      given(paymentDecider).when(payment.request()).then([payment.requested()]);
    });

    for (const amount of badAmounts) {
      it(`refuses to be requested for ${amount} cents`, () => {
        given(paymentDecider)
          .when(paymentOf().request(amount))
          .thenThrows(ValidationError, /^amount: must be a positive whole number of cents$/);
      });
    }

    it('refuses to be requested without a card token', () => {
      given(paymentDecider)
        .when(paymentOf().request(3448, ' '))
        .thenThrows(ValidationError, /^token: must not be blank$/);
    });

    it('cannot be captured, declined, failed, retried or refunded, as it is not found', () => {
      const payment = paymentOf();
      const notFound = new RegExp(`^payment ${payment.orderId} not found$`);
      for (const command of [
        payment.capture(),
        payment.decline(),
        payment.fail(),
        payment.failAttempt(1),
        payment.refund(100),
        payment.refundInFull(),
      ]) {
        given(paymentDecider).when(command).thenThrows(NotFound, notFound);
      }
    });
  });

  describe('when requested', () => {
    it('records nothing when requested again for the same amount', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()]).when(payment.request()).then([]);
    });

    it('refuses to be requested again for another amount', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.request(5000))
        .thenThrows(
          RuleViolation,
          new RegExp(`^payment for order ${payment.orderId} was already requested for 34\\.48$`),
        );
    });

    it('is captured for the amount requested, with the provider reference', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()]).when(payment.capture()).then([payment.captured()]);
    });

    it('refuses a capture without a provider reference', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.capture(''))
        .thenThrows(ValidationError, /^providerReference: must not be blank$/);
    });

    it('is declined, with the reason', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.decline('insufficient_funds'))
        .then([payment.declined('insufficient_funds')]);
    });

    it('is failed, with the reason', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.fail('timeout after 3 retries'))
        .then([payment.failed('timeout after 3 retries')]);
    });

    it('refuses a decline or failure without a reason', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.decline(' '))
        .thenThrows(ValidationError, /^reason: must not be blank$/);
      given(paymentDecider, [payment.requested()])
        .when(payment.fail(''))
        .thenThrows(ValidationError, /^reason: must not be blank$/);
    });

    it('refuses to be refunded before it is captured', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.refund(100))
        .thenThrows(RuleViolation, /^cannot refund a requested payment, only a captured one$/);
      given(paymentDecider, [payment.requested()])
        .when(payment.refundInFull())
        .thenThrows(RuleViolation, /^cannot refund a requested payment, only a captured one$/);
    });
  });

  describe('when the provider errs on an attempt', () => {
    it('records the first failed attempt, with the reason and the time', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested()])
        .when(payment.failAttempt(1, 'gateway_timeout', later))
        .then([payment.attemptFailed(1, 'gateway_timeout', later)]);
    });

    it('records the next attempt after one that failed', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.attemptFailed(1)])
        .when(payment.failAttempt(2))
        .then([payment.attemptFailed(2)]);
    });

    it('records nothing when the same attempt is told again', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.attemptFailed(1)])
        .when(payment.failAttempt(1))
        .then([]);
      given(paymentDecider, [payment.requested(), payment.attemptFailed(1), payment.attemptFailed(2)])
        .when(payment.failAttempt(2, 'another_reason'))
        .then([]);
    });

    it('records nothing for an attempt earlier than the last one recorded', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.attemptFailed(1), payment.attemptFailed(2)])
        .when(payment.failAttempt(1))
        .then([]);
    });

    for (const attempt of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      it(`refuses attempt ${attempt}`, () => {
        const payment = paymentOf();
        given(paymentDecider, [payment.requested()])
          .when(payment.failAttempt(attempt))
          .thenThrows(ValidationError, /^attempt: must be a whole number of at least 1$/);
      });
    }

    it('refuses a failed attempt without a reason', () => {
      const payment = paymentOf();
      for (const reason of ['', '  ']) {
        given(paymentDecider, [payment.requested()])
          .when(payment.failAttempt(1, reason))
          .thenThrows(ValidationError, /^reason: must not be blank$/);
      }
    });

    it('is still captured, declined or failed after attempts failed', () => {
      const payment = paymentOf();
      const events = [payment.requested(), payment.attemptFailed(1), payment.attemptFailed(2)];
      given(paymentDecider, events).when(payment.capture()).then([payment.captured()]);
      given(paymentDecider, events).when(payment.decline()).then([payment.declined()]);
      given(paymentDecider, events).when(payment.fail()).then([payment.failed()]);
    });

    it('records no failed attempt once the provider answered', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()])
        .when(payment.failAttempt(1))
        .thenThrows(RuleViolation, /is already captured$/);
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(3448, 3448)])
        .when(payment.failAttempt(1))
        .thenThrows(RuleViolation, /is already refunded$/);
      given(paymentDecider, [payment.requested(), payment.declined()])
        .when(payment.failAttempt(1))
        .thenThrows(RuleViolation, /is already declined$/);
      given(paymentDecider, [payment.requested(), payment.attemptFailed(1), payment.failed()])
        .when(payment.failAttempt(2))
        .thenThrows(RuleViolation, new RegExp(`^payment for order ${payment.orderId} is already failed$`));
    });
  });

  describe('when captured', () => {
    it('is never captured twice', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()])
        .when(payment.capture())
        .thenThrows(RuleViolation, new RegExp(`^payment for order ${payment.orderId} is already captured$`));
    });

    it('refuses to be declined or failed', () => {
      const payment = paymentOf();
      const events = [payment.requested(), payment.captured()];
      given(paymentDecider, events)
        .when(payment.decline())
        .thenThrows(RuleViolation, /^cannot decline a captured payment$/);
      given(paymentDecider, events)
        .when(payment.fail())
        .thenThrows(RuleViolation, /^cannot fail a captured payment$/);
    });

    it('records nothing when requested again for the same amount', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()]).when(payment.request()).then([]);
    });

    it('is refunded in full', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()])
        .when(payment.refund(3448))
        .then([payment.refunded(3448, 3448)]);
    });

    it('is refunded in full, when told to refund what is left', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()])
        .when(payment.refundInFull(later))
        .then([payment.refunded(3448, 3448, later)]);
    });

    it('is refunded for what is left after a refund in part', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(1000, 1000)])
        .when(payment.refundInFull())
        .then([payment.refunded(2448, 3448)]);
    });

    it('is refunded in part, then for the rest', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()])
        .when(payment.refund(1000))
        .then([payment.refunded(1000, 1000)]);
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(1000, 1000)])
        .when(payment.refund(2448))
        .then([payment.refunded(2448, 3448)]);
    });

    it('refuses to refund more than was captured', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured()])
        .when(payment.refund(3449))
        .thenThrows(RuleViolation, /^cannot refund 34\.49: only 34\.48 of 34\.48 is left to refund$/);
    });

    it('refuses refunds that together exceed what was captured', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(3000, 3000)])
        .when(payment.refund(449))
        .thenThrows(RuleViolation, /^cannot refund 4\.49: only 4\.48 of 34\.48 is left to refund$/);
    });

    for (const amount of badAmounts) {
      it(`refuses a refund of ${amount} cents`, () => {
        const payment = paymentOf();
        given(paymentDecider, [payment.requested(), payment.captured()])
          .when(payment.refund(amount))
          .thenThrows(ValidationError, /^amount: must be a positive whole number of cents$/);
      });
    }
  });

  describe('when refunded in full', () => {
    it('records nothing when told to refund in full again', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(3448, 3448)])
        .when(payment.refundInFull())
        .then([]);
      given(paymentDecider, [
        payment.requested(),
        payment.captured(),
        payment.refunded(1000, 1000),
        payment.refunded(2448, 3448),
      ])
        .when(payment.refundInFull())
        .then([]);
    });

    it('refuses any further refund', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(3448, 3448)])
        .when(payment.refund(1))
        .thenThrows(
          RuleViolation,
          new RegExp(`^payment for order ${payment.orderId} is already refunded in full$`),
        );
    });

    it('is never captured again', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(3448, 3448)])
        .when(payment.capture())
        .thenThrows(RuleViolation, /is already captured$/);
    });

    it('refuses to be declined or failed', () => {
      const payment = paymentOf();
      const events = [payment.requested(), payment.captured(), payment.refunded(3448, 3448)];
      given(paymentDecider, events)
        .when(payment.decline())
        .thenThrows(RuleViolation, /^cannot decline a refunded payment$/);
      given(paymentDecider, events)
        .when(payment.fail())
        .thenThrows(RuleViolation, /^cannot fail a refunded payment$/);
    });
  });

  describe('when declined', () => {
    it('cannot be captured', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.declined()])
        .when(payment.capture())
        .thenThrows(RuleViolation, /^cannot capture a declined payment$/);
    });

    it('is not declined twice, nor failed', () => {
      const payment = paymentOf();
      const events = [payment.requested(), payment.declined()];
      given(paymentDecider, events)
        .when(payment.decline())
        .thenThrows(RuleViolation, /is already declined$/);
      given(paymentDecider, events)
        .when(payment.fail())
        .thenThrows(RuleViolation, /^cannot fail a declined payment$/);
    });

    it('has nothing to refund', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.declined()])
        .when(payment.refund(100))
        .thenThrows(RuleViolation, /^cannot refund a declined payment, only a captured one$/);
      given(paymentDecider, [payment.requested(), payment.declined()])
        .when(payment.refundInFull())
        .thenThrows(RuleViolation, /^cannot refund a declined payment, only a captured one$/);
    });

    it('records nothing when requested again for the same amount', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.declined()]).when(payment.request()).then([]);
    });
  });

  describe('when failed', () => {
    it('cannot be captured', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.failed()])
        .when(payment.capture())
        .thenThrows(RuleViolation, /^cannot capture a failed payment$/);
    });

    it('is not failed twice, nor declined', () => {
      const payment = paymentOf();
      const events = [payment.requested(), payment.failed()];
      given(paymentDecider, events)
        .when(payment.fail())
        .thenThrows(RuleViolation, /is already failed$/);
      given(paymentDecider, events)
        .when(payment.decline())
        .thenThrows(RuleViolation, /^cannot decline a failed payment$/);
    });

    it('has nothing to refund', () => {
      const payment = paymentOf();
      given(paymentDecider, [payment.requested(), payment.failed()])
        .when(payment.refund(100))
        .thenThrows(RuleViolation, /^cannot refund a failed payment, only a captured one$/);
      given(paymentDecider, [payment.requested(), payment.failed()])
        .when(payment.refundInFull())
        .thenThrows(RuleViolation, /^cannot refund a failed payment, only a captured one$/);
    });
  });

  describe('when viewed', () => {
    const viewAfter = (events: readonly PaymentEvent[]) => paymentView(fold(paymentDecider, events));

    it('is nothing until requested', () => {
      expect(viewAfter([])).to.equal(null);
    });

    it('is pending once requested', () => {
      const payment = paymentOf();
      expect(viewAfter([payment.requested()])).to.deep.equal({
        status: 'PENDING',
        amountCents: 3448,
        refundedCents: 0,
      });
    });

    it('is still pending after attempts failed', () => {
      const payment = paymentOf();
      expect(
        viewAfter([payment.requested(), payment.attemptFailed(1), payment.attemptFailed(2)]),
      ).to.deep.equal({
        status: 'PENDING',
        amountCents: 3448,
        refundedCents: 0,
      });
    });

    it('is captured, then captured with what was refunded in part, then refunded', () => {
      const payment = paymentOf();
      const captured = [payment.requested(), payment.captured()];
      expect(viewAfter(captured)).to.deep.equal({ status: 'CAPTURED', amountCents: 3448, refundedCents: 0 });
      const partly = [...captured, payment.refunded(1000, 1000)];
      expect(viewAfter(partly)).to.deep.equal({ status: 'CAPTURED', amountCents: 3448, refundedCents: 1000 });
      expect(viewAfter([...partly, payment.refunded(2448, 3448)])).to.deep.equal({
        status: 'REFUNDED',
        amountCents: 3448,
        refundedCents: 3448,
      });
    });

    it('is declined or failed', () => {
      const payment = paymentOf();
      expect(viewAfter([payment.requested(), payment.declined()])).to.deep.equal({
        status: 'DECLINED',
        amountCents: 3448,
        refundedCents: 0,
      });
      expect(viewAfter([payment.requested(), payment.failed()])).to.deep.equal({
        status: 'FAILED',
        amountCents: 3448,
        refundedCents: 0,
      });
    });

    it('keeps the provider reference, the times and the refunds in the state', () => {
      const payment = paymentOf();
      expect(
        fold(paymentDecider, [payment.requested(), payment.captured(), payment.refunded(1000, 1000)]),
      ).to.deep.equal({
        status: 'Captured',
        orderId: payment.orderId,
        userId: payment.userId,
        amountCents: 3448,
        token: 'tok_visa',
        requestedAt,
        providerReference: payment.providerReference,
        capturedAt: at,
        refundedCents: 1000,
        updatedAt: later,
      });
    });

    it('keeps the number of failed attempts of a requested payment in the state', () => {
      const payment = paymentOf();
      expect(fold(paymentDecider, [payment.requested()])).to.deep.equal({
        status: 'Requested',
        orderId: payment.orderId,
        userId: payment.userId,
        amountCents: 3448,
        token: 'tok_visa',
        requestedAt,
        updatedAt: requestedAt,
        failedAttempts: 0,
      });
      expect(
        fold(paymentDecider, [
          payment.requested(),
          payment.attemptFailed(1, 'provider_timeout', at),
          payment.attemptFailed(2, 'provider_timeout', later),
        ]),
      ).to.include({ status: 'Requested', failedAttempts: 2, updatedAt: later });
    });

    it('never counts fewer failed attempts for an earlier attempt folded late', () => {
      const payment = paymentOf();
      expect(
        fold(paymentDecider, [payment.requested(), payment.attemptFailed(3), payment.attemptFailed(1)]),
      ).to.include({ status: 'Requested', failedAttempts: 3 });
    });

    it('ignores a failed attempt once the provider answered', () => {
      const payment = paymentOf();
      const captured = fold(paymentDecider, [payment.requested(), payment.captured()]);
      expect(
        fold(paymentDecider, [payment.requested(), payment.captured(), payment.attemptFailed(1, 'x', later)]),
      ).to.deep.equal(captured);
    });

    it('keeps the reason it was declined', () => {
      const payment = paymentOf();
      expect(fold(paymentDecider, [payment.requested(), payment.declined('insufficient_funds')])).to.include({
        status: 'Declined',
        reason: 'insufficient_funds',
        updatedAt: at,
      });
    });

    it('leaves a payment never requested as it is, whatever event it is given', () => {
      const payment = paymentOf();
      expect(
        fold(paymentDecider, [
          payment.captured(),
          payment.declined(),
          payment.failed(),
          payment.attemptFailed(1),
          payment.refunded(1, 1),
        ]),
      ).to.deep.equal({ status: 'Absent' });
    });

    it('spells its status for the API in capitals', () => {
      expect(
        (['Requested', 'Captured', 'Declined', 'Failed', 'Refunded'] as const).map(paymentStatusCode),
      ).to.deep.equal(['PENDING', 'CAPTURED', 'DECLINED', 'FAILED', 'REFUNDED']);
    });
  });

  describe('when stored', () => {
    it('lives in one stream per order', () => {
      const orderId = randomUUID();
      expect(paymentStreamId(orderId)).to.equal(`payment-${orderId}`);
    });
  });
});
