import { type Request, type RequestHandler, type Response, Router } from 'express';
import { Type } from 'class-transformer';
import { Equals, IsDefined, Length, Matches, ValidateNested } from 'class-validator';
import { type CommandBus, handle, type Handled, load } from '../../commands/commandHandler.js';
import { placeOrder, requestHashOf } from '../../commands/order/placeOrder.js';
import { type OrderCommand, orderDecider } from '../../domain/order/order.decide.js';
import { type ExistingOrder, type Order, type OrderEvent, orderStreamId } from '../../domain/order/order.js';
import { paymentDecider } from '../../domain/payment/payment.decide.js';
import { paymentStreamId } from '../../domain/payment/payment.js';
import { NotFound } from '../../domain/shared/errors.js';
import type { JsonValue } from '../../eventstore/eventStore.js';
import { callerOf } from '../auth/authenticate.js';
import { commandContext } from '../commandContext.js';
import { answerCommand, ifMatch, Omittable, validBody } from '../http.js';
import { pathId } from '../pathIds.js';
import { IsText } from '../text.js';
import { orderView } from './orderView.js';
import { HttpProblem, problemStatusTitle } from '../problemDetails.js';

class ShippingAddressBody {
  @IsText()
  @Length(1, 200)
  name!: string;

  @IsText()
  @Length(1, 200)
  line1!: string;

  @Omittable()
  @IsText({ blank: true })
  @Length(0, 200)
  line2?: string;

  @IsText()
  @Length(1, 100)
  city!: string;

  @IsText()
  @Length(1, 20)
  postalCode!: string;

  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as "DE"' })
  country!: string;
}

class PaymentMethodBody {
  @Equals('card')
  type!: 'card';

  @IsText()
  @Length(1, 100)
  token!: string;
}

class PlaceOrderBody {
  @IsDefined()
  @ValidateNested()
  @Type(() => ShippingAddressBody)
  shippingAddress!: ShippingAddressBody;

  @IsDefined()
  @ValidateNested()
  @Type(() => PaymentMethodBody)
  paymentMethod!: PaymentMethodBody;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,64}$/;

function idempotencyKey(request: Request): string {
  const key = request.header('idempotency-key');
  if (key === undefined) {
    throw new HttpProblem(
      428,
      problemStatusTitle(428),
      'placing an order requires an Idempotency-Key header',
    );
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpProblem(
      400,
      problemStatusTitle(400),
      'Idempotency-Key must be 1 to 64 of A-Z a-z 0-9 _ -',
      {
        errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 64 of A-Z a-z 0-9 _ -' }],
      },
    );
  }
  return key;
}

export interface OrderDependencies {
  bus: CommandBus;
  customersOnly: RequestHandler[];
  adminOnly: RequestHandler[];
  /** Customers (for their own orders) and administrators (for any). */
  customersAndAdmins: RequestHandler[];
  cartTtlMs: number;
  orderTimeoutMs: number;
  now: () => Date;
}

export function orderRoutes(dependencies: OrderDependencies): Router {
  const { bus, customersOnly, adminOnly, customersAndAdmins, now } = dependencies;
  const router = Router();

  async function orderBody(order: ExistingOrder) {
    const { state: payment } = await load(bus, paymentDecider, paymentStreamId(order.id));
    return orderView(order, payment);
  }

  /** The order, if the caller may see it: another customer's order is answered as not found. */
  async function visibleOrder(request: Request): Promise<{ order: ExistingOrder; revision: number }> {
    const orderId = pathId(request, 'orderId', 'order');
    const { state, revision } = await load(bus, orderDecider, orderStreamId(orderId));
    const caller = callerOf(request);
    if (state.status === 'Absent') throw new NotFound('order', orderId);
    if (state.userId !== caller.userId && !caller.roles.includes('admin'))
      throw new NotFound('order', orderId);
    return { order: state, revision };
  }

  async function changeOrder(
    request: Request,
    command: (orderId: string, at: string) => OrderCommand,
  ): Promise<Handled<Order, OrderEvent> & { order: ExistingOrder }> {
    const { order } = await visibleOrder(request);
    const expected = ifMatch(request);
    const handled = await handle(
      bus,
      orderDecider,
      orderStreamId(order.id),
      command(order.id, now().toISOString()),
      commandContext(request),
      expected === undefined ? {} : { ifMatch: expected },
    );
    if (handled.state.status === 'Absent') throw new NotFound('order', order.id);
    return { ...handled, order: handled.state };
  }

  const answerOrder = async (
    response: Response,
    handled: Handled<Order, OrderEvent> & { order: ExistingOrder },
    status: number,
  ): Promise<void> => answerCommand(response, handled, status, await orderBody(handled.order));

  router.post('/api/v1/orders', ...customersOnly, async (request, response) => {
    const key = idempotencyKey(request);
    const body = await validBody(PlaceOrderBody, request.body);
    const { orderId, position } = await placeOrder(
      bus,
      callerOf(request).userId,
      {
        idempotencyKey: key,
        requestHash: requestHashOf(request.body as JsonValue),
        shippingAddress: { ...body.shippingAddress },
        paymentMethod: { type: body.paymentMethod.type, token: body.paymentMethod.token },
      },
      commandContext(request),
      {
        cartTtlMs: dependencies.cartTtlMs,
        orderTimeoutMs: dependencies.orderTimeoutMs,
        now: now().toISOString(),
      },
    );
    response.setHeader('Location', `/api/v1/orders/${orderId}`);
    // A repeated request gets the first answer again, whatever happened to the order since.
    answerCommand(response, { revision: 0, position }, 202, { orderId, status: 'PENDING' });
  });

  router.get('/api/v1/orders/:orderId', ...customersAndAdmins, async (request, response) => {
    const { order, revision } = await visibleOrder(request);
    response.setHeader('ETag', `"${revision}"`);
    response.json(await orderBody(order));
  });

  router.post('/api/v1/orders/:orderId/cancel', ...customersAndAdmins, async (request, response) => {
    const handled = await changeOrder(request, (orderId, at) => ({
      type: 'CancelOrder',
      orderId,
      reason: 'customer_cancelled',
      now: at,
    }));
    await answerOrder(response, handled, 202);
  });

  router.post('/api/v1/orders/:orderId/ship', ...adminOnly, async (request, response) => {
    const handled = await changeOrder(request, (orderId, at) => ({ type: 'ShipOrder', orderId, now: at }));
    await answerOrder(response, handled, 200);
  });

  router.post('/api/v1/orders/:orderId/deliver', ...adminOnly, async (request, response) => {
    const handled = await changeOrder(request, (orderId, at) => ({ type: 'DeliverOrder', orderId, now: at }));
    await answerOrder(response, handled, 200);
  });

  return router;
}
