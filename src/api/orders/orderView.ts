import { type ExistingOrder, orderStatusCode } from '../../domain/order/order.js';
import { type Payment, paymentView } from '../../domain/payment/payment.js';
import { formatMoney } from '../../domain/shared/money.js';

/** An order as API.md shows it, its payment folded from the payment stream beside it. */
export function orderView(order: ExistingOrder, payment: Payment) {
  const paid = paymentView(payment);
  return {
    id: order.id,
    userId: order.userId,
    status: orderStatusCode(order.status),
    items: order.items.map((line) => ({
      productId: line.productId,
      productName: line.productName,
      quantity: line.quantity,
      unitPrice: formatMoney(line.unitPriceCents),
      lineTotal: formatMoney(line.unitPriceCents * line.quantity),
    })),
    totalAmount: formatMoney(order.totalCents),
    shippingAddress: order.shippingAddress,
    // No payment has been requested yet: the order's total is what will be asked for.
    payment: {
      status: paid?.status ?? 'PENDING',
      amount: formatMoney(paid?.amountCents ?? order.totalCents),
      refundedAmount: formatMoney(paid?.refundedCents ?? 0),
    },
    ...(order.status === 'Cancelled' ? { cancellationReason: order.cancellationReason } : {}),
    createdAt: order.placedAt,
    updatedAt: order.updatedAt,
    expiresAt: order.expiresAt,
  };
}
