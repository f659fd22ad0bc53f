import { type Request, type RequestHandler, type Response, Router } from 'express';
import { Type } from 'class-transformer';
import { Equals, IsDefined, Length, Matches, ValidateNested } from 'class-validator';
import type { CommandEnvironment } from '../../commands/commandEnvironment.js';
import {
  cancelOrder,
  deliverOrder,
  type OrderAnswer,
  type OrderViewer,
  placeOrder,
  readOrder,
  requestHashOf,
  shipOrder,
} from '../../commands/order/order.js';
import type { JsonValue } from '../../eventstore/eventStore.js';
import { callerOf } from '../auth/authenticate.js';
import { commandContext } from '../commandContext.js';
import { answerCommand, ifMatch, Omittable, validBody } from '../http.js';
import { pathId } from '../pathIds.js';
import { IsText } from '../text.js';
import { orderView } from './orderView.js';
import { ORDER_STATUS_CODES, type ShippingAddress } from '../../domain/order/order.js';
import { ValidationError } from '../../domain/shared/errors.js';
import { USER_ID, USER_ID_RULE } from '../../domain/shared/userId.js';
import type { SqlQuery } from '../../projections/consumer.js';
import { listOrders, type OrderFilter } from '../../projections/orders/ordersQueries.js';
import { oneOfParameter, pageOf, pageParameters, queryOf, textParameter } from '../queryParameters.js';
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
  env: CommandEnvironment;
  /** Statements on the orders' read model. */
  readModel: SqlQuery;
  /** Values as the read model keeps them, sealed personal fields opened. */
  openValues: (values: readonly JsonValue[]) => Promise<JsonValue[]>;
  customersOnly: RequestHandler[];
  adminOnly: RequestHandler[];
  /** Customers (for their own orders) and administrators (for any). */
  customersAndAdmins: RequestHandler[];
}

const viewerOf = (request: Request): OrderViewer => {
  const caller = callerOf(request);
  return { userId: caller.userId, isAdmin: caller.roles.includes('admin') };
};

const ORDER_LIST_PARAMETERS = ['page', 'size', 'status', 'userId'];

/** A customer's own orders; an administrator's of everyone, or of the customer `userId` names. */
function orderFilter(request: Request): OrderFilter {
  const query = queryOf(request, ORDER_LIST_PARAMETERS);
  const viewer = viewerOf(request);
  const userId = textParameter(query, 'userId', Number.POSITIVE_INFINITY);
  if (userId !== undefined && !viewer.isAdmin) {
    throw new ValidationError('userId', 'filters an administrator’s list: a customer lists their own orders');
  }
  if (userId !== undefined && !USER_ID.test(userId))
    throw new ValidationError('userId', `must be ${USER_ID_RULE}`);
  return {
    ...pageParameters(query),
    status: oneOfParameter(query, 'status', ORDER_STATUS_CODES),
    userId: viewer.isAdmin ? userId : viewer.userId,
  };
}

const orderChange = (request: Request) => ({
  orderId: pathId(request, 'orderId', 'order'),
  viewer: viewerOf(request),
  ifMatch: ifMatch(request),
});

export function orderRoutes(dependencies: OrderDependencies): Router {
  const { env, readModel, openValues, customersOnly, adminOnly, customersAndAdmins } = dependencies;
  const router = Router();

  router.get('/api/v1/orders', ...customersAndAdmins, async (request, response) => {
    const filter = orderFilter(request);
    const { items, totalItems } = await listOrders(readModel, filter);
    // The read model keeps the addresses sealed: opened now, or erased for a forgotten customer.
    const addresses = await openValues(
      items.map(({ order }) => order.shippingAddress as unknown as JsonValue),
    );
    const answered = items.map(({ order, payment }, index) =>
      orderView({ ...order, shippingAddress: addresses[index] as unknown as ShippingAddress }, payment),
    );
    response.json(pageOf(answered, filter, totalItems));
  });

  const answerOrder = (response: Response, answer: OrderAnswer, status: number): void =>
    answerCommand(response, answer, status, orderView(answer.order, answer.payment));

  router.post('/api/v1/orders', ...customersOnly, async (request, response) => {
    const key = idempotencyKey(request);
    const body = await validBody(PlaceOrderBody, request.body);
    const { orderId, position } = await placeOrder(
      env,
      {
        userId: callerOf(request).userId,
        request: {
          idempotencyKey: key,
          requestHash: requestHashOf(request.body as JsonValue),
          shippingAddress: { ...body.shippingAddress },
          paymentMethod: { type: body.paymentMethod.type, token: body.paymentMethod.token },
        },
      },
      commandContext(request),
    );
    response.setHeader('Location', `/api/v1/orders/${orderId}`);
    // A repeated request gets the first answer again, whatever happened to the order since.
    answerCommand(response, { revision: 0, position }, 202, { orderId, status: 'PENDING' });
  });

  router.get('/api/v1/orders/:orderId', ...customersAndAdmins, async (request, response) => {
    const answer = await readOrder(env, pathId(request, 'orderId', 'order'), viewerOf(request));
    response.setHeader('ETag', `"${answer.revision}"`);
    response.json(orderView(answer.order, answer.payment));
  });

  router.post('/api/v1/orders/:orderId/cancel', ...customersAndAdmins, async (request, response) => {
    answerOrder(response, await cancelOrder(env, orderChange(request), commandContext(request)), 202);
  });

  router.post('/api/v1/orders/:orderId/ship', ...adminOnly, async (request, response) => {
    answerOrder(response, await shipOrder(env, orderChange(request), commandContext(request)), 200);
  });

  router.post('/api/v1/orders/:orderId/deliver', ...adminOnly, async (request, response) => {
    answerOrder(response, await deliverOrder(env, orderChange(request), commandContext(request)), 200);
  });

  return router;
}
