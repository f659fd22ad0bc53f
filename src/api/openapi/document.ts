import type { OpenAPIV3, OpenAPIV3_1 } from 'openapi-types';
import { ROLES } from '../auth/authenticate.js';
import { USER_ID } from '../../domain/shared/userId.js';
import { RATE_LIMIT_DEFAULT } from '../rateLimit.js';
import { EXPORT_DEFAULT_LIMIT, EXPORT_MAX_LIMIT, STREAM_CATEGORIES } from '../events/events.routes.js';
import { SALES_RANGE_MAX_DAYS } from '../analytics/analytics.routes.js';
import { CART_LINE_MAX_QUANTITY } from '../../domain/cart/cart.decide.js';
import { CATEGORY_NAME_MAX_LENGTH } from '../../domain/catalog/category.js';
import {
  PRODUCT_DESCRIPTION_MAX_LENGTH,
  PRODUCT_IMAGE_URL_MAX_LENGTH,
  PRODUCT_MAX_PRICE_CENTS,
  PRODUCT_MIN_PRICE_CENTS,
  PRODUCT_NAME_MAX_LENGTH,
} from '../../domain/catalog/product.decide.js';
import { RESTOCK_MAX_QUANTITY } from '../../domain/inventory/inventory.js';
import { CANCELLATION_REASONS, ORDER_STATUS_CODES } from '../../domain/order/order.js';
import { ORDER_MAX_TOTAL_CENTS, ORDER_MIN_TOTAL_CENTS } from '../../domain/order/order.decide.js';
import type { PaymentStatusCode } from '../../domain/payment/payment.js';
import { formatMoney } from '../../domain/shared/money.js';
import { MAX_BODY_DEPTH } from '../bodyShape.js';
import { PERSONAL_DATA_PATHS } from '../privacy.js';
import { NO_SPACE_PATTERN, textPattern } from '../text.js';
import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, SEARCH_MAX_LENGTH } from '../queryParameters.js';
import { PRODUCT_SORT_KEYS, SORT_DIRECTIONS } from '../../projections/catalog/catalogQueries.js';

// openapi-types declares a 3.1 path item to be a 3.0 one as well, so what goes under `paths` must be
// both; schemas, where 3.1 differs from 3.0, are all in components and only `$ref`'d from paths.
type Paths = OpenAPIV3_1.PathsObject;
type Operation = OpenAPIV3.OperationObject & OpenAPIV3_1.OperationObject;
type Response = OpenAPIV3.ResponseObject & OpenAPIV3_1.ResponseObject;
type Headers = NonNullable<Response['headers']>;
type Schema = OpenAPIV3_1.SchemaObject;

const schema = (name: string): OpenAPIV3_1.ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
const header = (name: string): OpenAPIV3_1.ReferenceObject => ({ $ref: `#/components/headers/${name}` });
const parameter = (name: string): OpenAPIV3_1.ReferenceObject => ({
  $ref: `#/components/parameters/${name}`,
});

const PAYMENT_STATUSES = [
  'PENDING',
  'CAPTURED',
  'DECLINED',
  'FAILED',
  'REFUNDED',
] satisfies PaymentStatusCode[];

/** One line that shows something: no control character or lone surrogate, not only whitespace or invisible characters. */
const NOT_BLANK = textPattern();
const TEXT_RULES =
  'No control character (tab and newline included) or lone surrogate, and more than whitespace and ' +
  'invisible characters (U+200B, U+2060, U+FEFF, ...)';

// Responses. Each is written out in its operation rather than `$ref`'d from components.responses,
// so that a reader (or a test) finds its headers and content where the status is.

/** Every answer echoes `X-Request-Id`. */
function answer(description: string, headers: Headers = {}, content?: Response['content']): Response {
  return {
    description,
    headers: { 'X-Request-Id': header('XRequestId'), ...headers },
    ...(content ? { content } : {}),
  };
}

const json = (name: string): Response['content'] => ({ 'application/json': { schema: schema(name) } });

function problem(description: string, headers: Headers = {}): Response {
  return answer(description, headers, { 'application/problem+json': { schema: schema('Problem') } });
}

/** 401 and 403 of an operation open to the callers with at least one of `roles`. */
function guarded(...roles: string[]): Record<string, Response> {
  return {
    '401': problem(
      'No bearer token, or one that does not verify: malformed, expired, not RS256, signed by an unknown ' +
        'key, from another issuer or audience, or without `sub` or `exp`.',
      { 'WWW-Authenticate': header('WWWAuthenticate') },
    ),
    '403': problem(`Authenticated, but without the role ${roles.join(' or ')}.`, {
      'WWW-Authenticate': header('WWWAuthenticate'),
    }),
  };
}

const bearer = [{ bearer: [] }];

const BODY_PROBLEMS: Record<string, Response> = {
  '413': problem('The body is larger than 100 kB.'),
  '415': problem('The body is not `application/json`.'),
};

const PRECONDITION_FAILED = problem('`If-Match` names a revision the resource is no longer at.');

const UNAVAILABLE = problem(
  'A dependency is down: the event store, the database or the identity provider keys do not answer.',
  { 'Retry-After': header('RetryAfter') },
);

const commandHeaders: Headers = { ETag: header('ETag'), 'X-Event-Position': header('XEventPosition') };
const projectionHeaders: Headers = { 'X-Projection-Position': header('XProjectionPosition') };
const readHeaders: Headers = { ETag: header('ETag'), 'X-Projection-Position': header('XProjectionPosition') };

const body = (name: string): OpenAPIV3.RequestBodyObject & OpenAPIV3_1.RequestBodyObject => ({
  required: true,
  content: { 'application/json': { schema: schema(name) } },
});

/** API.md's page of a list of `item`. */
const pageSchema = (item: string) => ({
  type: 'object' as const,
  required: ['items', 'page', 'size', 'totalItems', 'totalPages'],
  properties: {
    items: { type: 'array' as const, items: schema(item) },
    page: { type: 'integer' as const, minimum: 0 },
    size: { type: 'integer' as const, minimum: 1, maximum: PAGE_SIZE_MAX },
    totalItems: { type: 'integer' as const, minimum: 0 },
    totalPages: { type: 'integer' as const, minimum: 0 },
  },
});

/** API.md's paging: `?page=0&size=20`. */
const pageParameters = [
  {
    name: 'page',
    in: 'query' as const,
    required: false,
    schema: { type: 'integer' as const, minimum: 0, default: 0 },
  },
  {
    name: 'size',
    in: 'query' as const,
    required: false,
    schema: { type: 'integer' as const, minimum: 1, maximum: PAGE_SIZE_MAX, default: PAGE_SIZE_DEFAULT },
  },
];

const productId = parameter('ProductId');
const orderId = parameter('OrderId');
const requestId = parameter('XRequestId');
const minPosition = parameter('XMinPosition');
const ifMatch = parameter('IfMatch');

const MALFORMED_IF_MATCH = '`If-Match` is not a quoted revision such as `"3"`';
const MALFORMED_MIN_POSITION = '`X-Min-Position` is not a whole number.';

// Schemas

const money: Schema = {
  type: 'string',
  pattern: '^\\d+\\.\\d{2}$',
  description: 'An amount of money: a decimal string with exactly two decimals.',
  examples: ['29.99'],
};

const moneyInput: Schema = {
  description:
    'An amount of money as a string or a number with at most two decimals ("29.99", "29.9", "29", 29.99 ' +
    'or 29), at most nine digits before the point; signs, exponents and a third decimal are a 400.',
  oneOf: [
    { type: 'string', pattern: '^\\d{1,9}(\\.\\d{1,2})?$' },
    { type: 'number', minimum: 0, maximum: 999_999_999.99 },
  ],
  examples: ['29.99', 29.99],
};

const problemSchema: Schema = {
  type: 'object',
  description: 'RFC 9457 problem details. Never a stack trace, SQL text or internal path.',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: {
      type: 'string',
      description: 'Always `about:blank` today: the status and title say what kind of problem it is.',
      examples: ['about:blank'],
    },
    title: { type: 'string', description: 'The status phrase.', examples: ['Bad Request'] },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', description: 'What went wrong, in words meant for the client.' },
    instance: {
      type: 'string',
      description: 'The path (and query) of the request.',
      examples: ['/api/v1/cart/items'],
    },
    errors: {
      type: 'array',
      description:
        'Present on a 400 about fields: each failing field, nested ones by their path ' +
        '(`shippingAddress.country`), headers by their name (`Idempotency-Key`).',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const displayName = (maxLength: number): Schema => ({
  type: 'string',
  minLength: 1,
  maxLength,
  pattern: NOT_BLANK,
  description: `Stored trimmed; 1 to ${maxLength} characters, not counting surrounding spaces. ${TEXT_RULES}.`,
});

const imageUrl: Schema = {
  type: 'string',
  maxLength: PRODUCT_IMAGE_URL_MAX_LENGTH,
  pattern: NO_SPACE_PATTERN,
  description: `An http or https URL with a host, without whitespace or control characters, at most ${PRODUCT_IMAGE_URL_MAX_LENGTH} characters.`,
};

const productDescription: Schema = {
  type: 'string',
  maxLength: PRODUCT_DESCRIPTION_MAX_LENGTH,
  pattern: textPattern({ multiline: true, blank: true }),
  description: `At most ${PRODUCT_DESCRIPTION_MAX_LENGTH} characters; tab and newline are the only control characters it may hold, and no lone surrogate.`,
};

const priceInput: OpenAPIV3_1.ReferenceObject = {
  $ref: '#/components/schemas/MoneyInput',
  description: `From ${formatMoney(PRODUCT_MIN_PRICE_CENTS)} to ${formatMoney(PRODUCT_MAX_PRICE_CENTS)}.`,
};

const timestamp: Schema = { type: 'string', format: 'date-time', description: 'ISO 8601, UTC.' };

const schemas: Record<string, Schema> = {
  Money: money,
  MoneyInput: moneyInput,
  Problem: problemSchema,

  CreateCategoryRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name: displayName(CATEGORY_NAME_MAX_LENGTH) },
  },
  CreateProductRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'price'],
    properties: {
      name: displayName(PRODUCT_NAME_MAX_LENGTH),
      description: productDescription,
      price: priceInput,
      categoryId: {
        type: 'string',
        format: 'uuid',
        description:
          'An existing category, in either case; an unknown one is a 400 naming this field, and so is one ' +
          'that is not 8-4-4-4-12 hex digits.',
      },
      imageUrl,
      initialStock: {
        type: 'integer',
        minimum: 0,
        maximum: RESTOCK_MAX_QUANTITY,
        default: 0,
        description: 'Stock on hand from the start, recorded as a first restock.',
      },
    },
  },
  UpdateProductRequest: {
    type: 'object',
    description:
      'Any of the fields, at least one; a field left out keeps its value. Deactivating an inactive ' +
      'product, or activating an active one, is a 409.',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      name: displayName(PRODUCT_NAME_MAX_LENGTH),
      description: {
        ...productDescription,
        type: ['string', 'null'],
        description: `${productDescription.description} null clears it.`,
      },
      price: priceInput,
      imageUrl: {
        ...imageUrl,
        type: ['string', 'null'],
        description: `${imageUrl.description} null clears it.`,
      },
      active: { type: 'boolean' },
    },
  },
  RestockRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['quantity'],
    properties: {
      quantity: {
        type: 'integer',
        minimum: 1,
        maximum: RESTOCK_MAX_QUANTITY,
        description: 'Added to the stock on hand.',
      },
    },
  },
  AddCartItemRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['productId', 'quantity'],
    properties: {
      productId: {
        type: 'string',
        format: 'uuid',
        description: 'An active product, in either case; an unknown or inactive one is a 404.',
      },
      quantity: {
        type: 'integer',
        minimum: 1,
        maximum: CART_LINE_MAX_QUANTITY,
        description: `Added to the line’s quantity, which may not exceed ${CART_LINE_MAX_QUANTITY} (400).`,
      },
    },
  },
  ChangeCartItemQuantityRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['quantity'],
    properties: {
      quantity: {
        type: 'integer',
        minimum: 0,
        maximum: CART_LINE_MAX_QUANTITY,
        description: 'The line’s new quantity; 0 removes the line.',
      },
    },
  },
  ShippingAddressInput: {
    type: 'object',
    description:
      'Each text is stored trimmed and must not be blank; a blank `line2` is stored as null. ' +
      `${TEXT_RULES} (\`line2\` may be blank).`,
    additionalProperties: false,
    required: ['name', 'line1', 'city', 'postalCode', 'country'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200, pattern: NOT_BLANK },
      line1: { type: 'string', minLength: 1, maxLength: 200, pattern: NOT_BLANK },
      line2: { type: 'string', maxLength: 200, pattern: textPattern({ blank: true }) },
      city: { type: 'string', minLength: 1, maxLength: 100, pattern: NOT_BLANK },
      postalCode: { type: 'string', minLength: 1, maxLength: 20, pattern: NOT_BLANK },
      country: {
        type: 'string',
        pattern: '^[A-Z]{2}$',
        description: 'ISO 3166-1 alpha-2, in capitals.',
        examples: ['DE'],
      },
    },
  },
  PaymentMethod: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'token'],
    properties: {
      type: { type: 'string', const: 'card' },
      token: {
        type: 'string',
        minLength: 1,
        maxLength: 100,
        pattern: NOT_BLANK,
        description:
          'The payment provider’s card token. The simulator’s tokens: `tok_visa` (and any other `tok_*`) ' +
          'succeeds, `tok_declined` is declined, `tok_error` fails every time, `tok_slow` succeeds after 2 s. ' +
          'The checkout saga charges it after the order’s stock is reserved.',
        examples: ['tok_visa'],
      },
    },
  },
  PlaceOrderRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['shippingAddress', 'paymentMethod'],
    properties: { shippingAddress: schema('ShippingAddressInput'), paymentMethod: schema('PaymentMethod') },
  },
  DevTokenRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['sub', 'roles'],
    properties: {
      sub: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        pattern: NOT_BLANK,
        description: `The user id. ${TEXT_RULES}.`,
        examples: ['alice'],
      },
      roles: {
        type: 'array',
        uniqueItems: true,
        maxItems: ROLES.length,
        items: { type: 'string', enum: [...ROLES] },
        examples: [['customer']],
      },
    },
  },

  CreatedId: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', format: 'uuid' } },
  },
  Category: {
    type: 'object',
    required: ['id', 'name'],
    properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' } },
  },
  ProductPage: pageSchema('Product'),
  Product: {
    type: 'object',
    required: [
      'id',
      'name',
      'description',
      'price',
      'categoryId',
      'imageUrl',
      'active',
      'availableQuantity',
      'createdAt',
      'updatedAt',
    ],
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      description: { type: ['string', 'null'] },
      price: schema('Money'),
      categoryId: { type: ['string', 'null'], format: 'uuid' },
      imageUrl: { type: ['string', 'null'] },
      active: { type: 'boolean' },
      availableQuantity: {
        type: 'integer',
        minimum: 0,
        description: 'Stock on hand less what is reserved for orders.',
      },
      createdAt: timestamp,
      updatedAt: timestamp,
    },
  },
  Inventory: {
    type: 'object',
    description: 'A product whose stock was never recorded has 0 of everything.',
    required: ['productId', 'onHand', 'reserved', 'available'],
    properties: {
      productId: { type: 'string', format: 'uuid' },
      onHand: { type: 'integer', minimum: 0 },
      reserved: { type: 'integer', minimum: 0, description: 'Held for orders being checked out.' },
      available: { type: 'integer', minimum: 0, description: '`onHand` less `reserved`.' },
    },
  },
  CartLine: {
    type: 'object',
    required: ['productId', 'productName', 'quantity', 'unitPrice', 'lineTotal'],
    properties: {
      productId: { type: 'string', format: 'uuid' },
      productName: { type: 'string', description: 'As the catalog named it when it was first added.' },
      quantity: { type: 'integer', minimum: 1, maximum: CART_LINE_MAX_QUANTITY },
      unitPrice: { ...schema('Money'), description: 'The catalog price when the product was first added.' },
      lineTotal: schema('Money'),
    },
  },
  Cart: {
    type: 'object',
    description:
      'The caller’s own cart. A cart not changed for its time to live (30 days unless configured) is ' +
      'empty, its `updatedAt` the instant it expired.',
    required: ['items', 'itemCount', 'totalAmount', 'updatedAt'],
    properties: {
      items: { type: 'array', items: schema('CartLine') },
      itemCount: { type: 'integer', minimum: 0, description: 'The sum of the lines’ quantities.' },
      totalAmount: schema('Money'),
      updatedAt: {
        type: ['string', 'null'],
        format: 'date-time',
        description: 'The last change; null for a cart that never held anything.',
      },
    },
  },
  OrderLine: {
    type: 'object',
    required: ['productId', 'productName', 'quantity', 'unitPrice', 'lineTotal'],
    properties: {
      productId: { type: 'string', format: 'uuid' },
      productName: { type: 'string' },
      quantity: { type: 'integer', minimum: 1 },
      unitPrice: schema('Money'),
      lineTotal: schema('Money'),
    },
  },
  Address: {
    type: 'object',
    description: 'The shipping address as given, each text trimmed.',
    required: ['name', 'line1', 'line2', 'city', 'postalCode', 'country'],
    properties: {
      name: { type: 'string' },
      line1: { type: 'string' },
      line2: { type: ['string', 'null'], description: 'null when left out or blank.' },
      city: { type: 'string' },
      postalCode: { type: 'string' },
      country: { type: 'string', pattern: '^[A-Z]{2}$' },
    },
  },
  Payment: {
    type: 'object',
    description: '`PENDING`, for the order total, until the payment is requested.',
    required: ['status', 'amount', 'refundedAmount'],
    properties: {
      status: { type: 'string', enum: PAYMENT_STATUSES },
      amount: schema('Money'),
      refundedAmount: schema('Money'),
    },
  },
  OrderPage: pageSchema('Order'),
  SalesReport: {
    type: 'object',
    required: ['days', 'ordersByStatus'],
    properties: {
      days: {
        type: 'array',
        items: {
          type: 'object',
          required: ['date', 'productId', 'productName', 'units', 'revenue'],
          properties: {
            date: { type: 'string', format: 'date' },
            productId: { type: 'string', format: 'uuid' },
            productName: { type: 'string' },
            units: { type: 'integer' },
            revenue: schema('Money'),
          },
        },
      },
      ordersByStatus: {
        type: 'object',
        required: [...ORDER_STATUS_CODES],
        properties: Object.fromEntries(
          ORDER_STATUS_CODES.map((status) => [status, { type: 'integer', minimum: 0 }]),
        ),
      },
    },
  },
  Order: {
    type: 'object',
    required: [
      'id',
      'userId',
      'status',
      'items',
      'totalAmount',
      'shippingAddress',
      'payment',
      'createdAt',
      'updatedAt',
      'expiresAt',
    ],
    properties: {
      id: { type: 'string', format: 'uuid' },
      userId: { type: 'string', description: 'The `sub` of the customer who placed it.' },
      status: { type: 'string', enum: [...ORDER_STATUS_CODES] },
      items: { type: 'array', minItems: 1, items: schema('OrderLine') },
      totalAmount: schema('Money'),
      shippingAddress: schema('Address'),
      payment: schema('Payment'),
      cancellationReason: {
        type: 'string',
        enum: [...CANCELLATION_REASONS],
        description: 'Present only when the status is `CANCELLED`.',
      },
      createdAt: timestamp,
      updatedAt: timestamp,
      expiresAt: {
        ...timestamp,
        description: 'When a PENDING order is due to be cancelled as `expired`.',
      },
    },
  },
  AuditedEvent: {
    type: 'object',
    required: ['revision', 'position', 'type', 'data', 'metadata', 'recordedAt', 'hash', 'previousHash'],
    properties: {
      revision: { type: 'integer', minimum: 0 },
      position: { type: 'integer', minimum: 1, description: 'The global position; not contiguous.' },
      type: { type: 'string', description: 'The event type, e.g. `OrderPlaced`.' },
      data: {
        type: 'object',
        description: 'As stored, personal data opened; a forgotten customer’s shows as erased.',
      },
      metadata: {
        type: 'object',
        required: ['actor', 'correlationId', 'causationId'],
        additionalProperties: false,
        properties: {
          actor: { type: 'string', description: 'A token’s `sub`, or `system:<component>`.' },
          correlationId: { type: 'string' },
          causationId: { type: 'string' },
          requestId: { type: 'string' },
        },
      },
      recordedAt: timestamp,
      hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      previousHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    },
  },
  ExportedEvent: {
    type: 'object',
    description: 'One line of the export.',
    required: ['position', 'streamId', 'revision', 'type', 'data', 'metadata', 'recordedAt'],
    additionalProperties: false,
    properties: {
      position: { type: 'integer', minimum: 1, description: 'The global position; not contiguous.' },
      streamId: { type: 'string', examples: ['order-7f0c2b9e-3c1d-4a57-9d0e-4b8f2f1a6c33'] },
      revision: { type: 'integer', minimum: 0 },
      type: { type: 'string' },
      data: {
        type: 'object',
        description: 'As stored, personal data opened; a forgotten customer’s shows as erased.',
      },
      metadata: {
        type: 'object',
        required: ['actor', 'correlationId', 'causationId', 'schemaVersion'],
        properties: {
          actor: { type: 'string' },
          correlationId: { type: 'string' },
          causationId: { type: 'string' },
          requestId: { type: 'string' },
          schemaVersion: { type: 'integer', minimum: 1 },
        },
      },
      recordedAt: timestamp,
    },
  },
  OrderHistory: {
    type: 'object',
    required: ['streamId', 'events', 'verified'],
    additionalProperties: false,
    properties: {
      streamId: { type: 'string', examples: ['order-7f0c2b9e-3c1d-4a57-9d0e-4b8f2f1a6c33'] },
      events: { type: 'array', minItems: 1, items: schema('AuditedEvent') },
      verified: {
        type: 'boolean',
        description:
          'Whether every stored event still hashes to its `hash`: `sha256(previousHash + canonical event)`, ' +
          'the first `previousHash` being 64 zeros.',
      },
    },
  },
  PlacedOrder: {
    type: 'object',
    required: ['orderId', 'status'],
    properties: {
      orderId: { type: 'string', format: 'uuid' },
      status: {
        type: 'string',
        const: 'PENDING',
        description: 'Always PENDING, also when a repeated request answers for an order that has moved on.',
      },
    },
  },
  DevToken: {
    type: 'object',
    required: ['access_token', 'token_type', 'expires_in'],
    properties: {
      access_token: { type: 'string', description: 'An RS256 JWT with `sub` and `realm_access.roles`.' },
      token_type: { type: 'string', const: 'Bearer' },
      expires_in: { type: 'integer', minimum: 1, description: 'Seconds until the token expires.' },
    },
  },
  Jwks: {
    type: 'object',
    description: 'RFC 7517 JSON Web Key Set: the development issuer’s public key.',
    required: ['keys'],
    properties: {
      keys: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kty', 'n', 'e', 'kid', 'alg', 'use'],
          properties: {
            kty: { type: 'string', const: 'RSA' },
            n: { type: 'string' },
            e: { type: 'string' },
            kid: { type: 'string', description: 'The key’s RFC 7638 thumbprint.' },
            alg: { type: 'string', const: 'RS256' },
            use: { type: 'string', const: 'sig' },
          },
        },
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['up', 'down'] },
      checks: {
        type: 'object',
        description:
          'Readiness only: every check (`eventStore`, `readModels`, and one per consumer of the event ' +
          'stream, such as `checkout-completer`), each `up`, `down`, or `degraded` (serving, with a detail).',
        additionalProperties: { type: 'string', enum: ['up', 'down', 'degraded'] },
      },
      details: {
        type: 'object',
        description:
          'Readiness only, when a check is `degraded`: what an operator should look at, e.g. `1 event parked`.',
        additionalProperties: { type: 'string' },
      },
    },
  },
};

// Paths

const catalog: Paths = {
  '/api/v1/categories': {
    get: {
      tags: ['Catalog'],
      operationId: 'listCategories',
      summary: 'List the categories',
      description: 'Public. Every category, by name, unpaged; from the catalog read model.',
      security: [],
      parameters: [minPosition, requestId],
      responses: {
        '200': answer('The categories.', projectionHeaders, {
          'application/json': { schema: { type: 'array', items: schema('Category') } },
        }),
        '400': problem(`An unknown parameter, or ${MALFORMED_MIN_POSITION}`),
        '503': UNAVAILABLE,
      },
    },
    post: {
      tags: ['Catalog'],
      operationId: 'createCategory',
      summary: 'Create a category',
      description: 'Role: admin.',
      security: bearer,
      parameters: [requestId],
      requestBody: body('CreateCategoryRequest'),
      responses: {
        '201': answer('Created.', commandHeaders, json('CreatedId')),
        '400': problem('The body is not valid JSON or not a valid request, e.g. a blank or too long name.'),
        ...guarded('admin'),
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/products': {
    get: {
      tags: ['Catalog'],
      operationId: 'listProducts',
      summary: 'List and search the active products',
      description:
        'Public. A page of the active products, from the catalog read model. `search` is full-text over ' +
        'the name (weighted above the description), taken as a search box takes it (words, "quoted ' +
        'phrases", -excluded words; any text is a valid search); matches come most relevant first unless ' +
        '`sortBy` is given. Without `search` or `sortBy` they come by name. Ties are broken by id, so ' +
        'pages neither repeat nor skip a product. Inactive products are never listed.',
      security: [],
      parameters: [
        {
          name: 'search',
          in: 'query',
          required: false,
          schema: { type: 'string', maxLength: SEARCH_MAX_LENGTH, pattern: textPattern({ blank: true }) },
        },
        {
          name: 'categoryId',
          in: 'query',
          required: false,
          schema: { type: 'string', format: 'uuid' },
        },
        ...pageParameters,
        {
          name: 'sortBy',
          in: 'query',
          required: false,
          schema: { type: 'string', enum: [...PRODUCT_SORT_KEYS] },
        },
        {
          name: 'sortDir',
          in: 'query',
          required: false,
          description: 'With `sortBy`; ascending by default.',
          schema: { type: 'string', enum: [...SORT_DIRECTIONS], default: 'ASC' },
        },
        minPosition,
        requestId,
      ],
      responses: {
        '200': answer('A page of products.', projectionHeaders, json('ProductPage')),
        '400': problem(
          'A parameter out of range, unknown, given twice, or not one of its values; a search with a ' +
            `control character or over ${SEARCH_MAX_LENGTH} characters; or ${MALFORMED_MIN_POSITION}`,
        ),
        '503': UNAVAILABLE,
      },
    },
    post: {
      tags: ['Catalog'],
      operationId: 'createProduct',
      summary: 'Create a product',
      description: 'Role: admin. The product is active from the start.',
      security: bearer,
      parameters: [requestId],
      requestBody: body('CreateProductRequest'),
      responses: {
        '201': answer(
          'Created; `ETag` is the product’s revision.',
          { ...commandHeaders, Location: header('Location') },
          json('CreatedId'),
        ),
        '400': problem(
          'The body is not valid JSON or not a valid request: a price out of range or with three decimals, ' +
            'an unknown `categoryId`, an image URL that is not http(s), ...',
        ),
        ...guarded('admin'),
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/products/{productId}': {
    get: {
      tags: ['Catalog'],
      operationId: 'getProduct',
      summary: 'Read a product',
      description: 'Public. Inactive products are answered too, with `active: false`.',
      security: [],
      parameters: [productId, minPosition, requestId],
      responses: {
        '200': answer('The product.', readHeaders, json('Product')),
        '400': problem(MALFORMED_MIN_POSITION),
        '404': problem('No such product.'),
        '503': UNAVAILABLE,
      },
    },
    patch: {
      tags: ['Catalog'],
      operationId: 'updateProduct',
      summary: 'Change a product',
      description:
        'Role: admin. Changes any of name, description, price, imageUrl and active; `If-Match` applies the ' +
        'change only to that revision. A price change does not reprice lines already in carts.',
      security: bearer,
      parameters: [productId, ifMatch, requestId],
      requestBody: body('UpdateProductRequest'),
      responses: {
        '200': answer('The product as changed.', commandHeaders, json('Product')),
        '400': problem(`The body is not valid JSON or not a valid request, or ${MALFORMED_IF_MATCH}.`),
        ...guarded('admin'),
        '404': problem('No such product.'),
        '409': problem(
          'Deactivating an inactive product or activating an active one; or, without `If-Match`, ' +
            'another request changed the product meanwhile.',
        ),
        '412': PRECONDITION_FAILED,
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/inventory/{productId}/restock': {
    post: {
      tags: ['Inventory'],
      operationId: 'restockProduct',
      summary: 'Add stock',
      description:
        'Role: admin. `If-Match` names the revision of the inventory (the `ETag` of ' +
        '`GET /api/v1/inventory/{productId}`), not of the product.',
      security: bearer,
      parameters: [productId, ifMatch, requestId],
      requestBody: body('RestockRequest'),
      responses: {
        '200': answer('The stock after the restock.', commandHeaders, json('Inventory')),
        '400': problem(`The body is not valid JSON or not a valid request, or ${MALFORMED_IF_MATCH}.`),
        ...guarded('admin'),
        '404': problem('No such product.'),
        '409': problem('Without `If-Match`: other writers kept changing the stock while this one retried.'),
        '412': PRECONDITION_FAILED,
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/inventory/{productId}': {
    get: {
      tags: ['Inventory'],
      operationId: 'getInventory',
      summary: 'Read the stock of a product',
      description: 'Role: admin.',
      security: bearer,
      parameters: [productId, minPosition, requestId],
      responses: {
        '200': answer(
          'The stock; `ETag` is `"-1"` while none was ever recorded.',
          readHeaders,
          json('Inventory'),
        ),
        '400': problem(MALFORMED_MIN_POSITION),
        ...guarded('admin'),
        '404': problem('No such product.'),
        '503': UNAVAILABLE,
      },
    },
  },
};

const CART_CONFLICT = problem(
  'Without `If-Match`: other writers (another instance of the shop) kept changing the cart while this ' +
    'one retried.',
);

const cart: Paths = {
  '/api/v1/cart': {
    get: {
      tags: ['Cart'],
      operationId: 'getCart',
      summary: 'Read the caller’s cart',
      description: 'Role: customer. An empty cart if there is none.',
      security: bearer,
      parameters: [minPosition, requestId],
      responses: {
        '200': answer('The cart; `ETag` is `"-1"` for a cart never used.', readHeaders, json('Cart')),
        '400': problem(MALFORMED_MIN_POSITION),
        ...guarded('customer'),
        '503': UNAVAILABLE,
      },
    },
    delete: {
      tags: ['Cart'],
      operationId: 'clearCart',
      summary: 'Empty the caller’s cart',
      description: 'Role: customer. Emptying an empty cart changes nothing and answers 204 too.',
      security: bearer,
      parameters: [ifMatch, requestId],
      responses: {
        '204': answer('Emptied.', commandHeaders),
        '400': problem(`${MALFORMED_IF_MATCH}.`),
        ...guarded('customer'),
        '409': CART_CONFLICT,
        '412': PRECONDITION_FAILED,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/cart/items': {
    post: {
      tags: ['Cart'],
      operationId: 'addCartItem',
      summary: 'Add a product to the caller’s cart',
      description:
        'Role: customer. Adds to an existing line, which keeps the price it was first added at. ' +
        'Neither checks nor reserves stock: availability is settled at checkout.',
      security: bearer,
      parameters: [ifMatch, requestId],
      requestBody: body('AddCartItemRequest'),
      responses: {
        '200': answer('The cart.', commandHeaders, json('Cart')),
        '400': problem(
          'The body is not valid JSON or not a valid request, the line would hold more than ' +
            `${CART_LINE_MAX_QUANTITY}, or ${MALFORMED_IF_MATCH}.`,
        ),
        ...guarded('customer'),
        '404': problem('No such product, or it is inactive.'),
        '409': CART_CONFLICT,
        '412': PRECONDITION_FAILED,
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/cart/items/{productId}': {
    put: {
      tags: ['Cart'],
      operationId: 'changeCartItemQuantity',
      summary: 'Set the quantity of a line',
      description: 'Role: customer. Quantity 0 removes the line.',
      security: bearer,
      parameters: [productId, ifMatch, requestId],
      requestBody: body('ChangeCartItemQuantityRequest'),
      responses: {
        '200': answer('The cart.', commandHeaders, json('Cart')),
        '400': problem(`The body is not valid JSON or not a valid request, or ${MALFORMED_IF_MATCH}.`),
        ...guarded('customer'),
        '404': problem('The cart has no line for this product.'),
        '409': CART_CONFLICT,
        '412': PRECONDITION_FAILED,
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
    delete: {
      tags: ['Cart'],
      operationId: 'removeCartItem',
      summary: 'Remove a line',
      description: 'Role: customer.',
      security: bearer,
      parameters: [productId, ifMatch, requestId],
      responses: {
        '200': answer('The cart.', commandHeaders, json('Cart')),
        '400': problem(`${MALFORMED_IF_MATCH}.`),
        ...guarded('customer'),
        '404': problem('The cart has no line for this product.'),
        '409': CART_CONFLICT,
        '412': PRECONDITION_FAILED,
        '503': UNAVAILABLE,
      },
    },
  },
};

const ORDER_NOT_FOUND = problem('No such order, or another customer’s.');

/** cancel, ship and deliver: the same shape, each its own transition. */
function orderTransition(
  operationId: string,
  summary: string,
  description: string,
  status: '200' | '202',
  conflict: string,
  ...roles: string[]
): Operation {
  return {
    tags: ['Orders'],
    operationId,
    summary,
    description,
    security: bearer,
    parameters: [orderId, ifMatch, requestId],
    responses: {
      [status]: answer('The order.', commandHeaders, json('Order')),
      '400': problem(`${MALFORMED_IF_MATCH}.`),
      ...guarded(...roles),
      '404': ORDER_NOT_FOUND,
      '409': problem(`${conflict}; or, without \`If-Match\`, another request changed the order meanwhile.`),
      '412': PRECONDITION_FAILED,
      '503': UNAVAILABLE,
    },
  };
}

const orders: Paths = {
  '/api/v1/orders': {
    get: {
      tags: ['Orders'],
      operationId: 'listOrders',
      summary: 'List orders, newest first',
      description:
        'Roles: customer (their own orders) or admin (everyone’s, or one customer’s with `userId`). From ' +
        'the orders read model; each order as `GET /orders/{id}` shows it, a forgotten customer’s address ' +
        'erased. Ties in time are broken by id, so pages neither repeat nor skip an order.',
      security: bearer,
      parameters: [
        ...pageParameters,
        {
          name: 'status',
          in: 'query',
          required: false,
          schema: { type: 'string', enum: [...ORDER_STATUS_CODES] },
        },
        {
          name: 'userId',
          in: 'query',
          required: false,
          description: 'Admin only: the orders of this customer (a token’s `sub`).',
          schema: { type: 'string', pattern: USER_ID.source },
        },
        minPosition,
        requestId,
      ],
      responses: {
        '200': answer('A page of orders.', projectionHeaders, json('OrderPage')),
        '400': problem(
          'A parameter out of range, unknown, given twice, or not one of its values; `userId` from a ' +
            `customer, or one no user can have; or ${MALFORMED_MIN_POSITION}`,
        ),
        ...guarded('customer', 'admin'),
        '503': UNAVAILABLE,
      },
    },
    post: {
      tags: ['Orders'],
      operationId: 'placeOrder',
      summary: 'Place an order from the caller’s cart',
      description:
        'Role: customer. Takes the caller’s current cart and empties it; never checks stock synchronously. ' +
        `The order total must be within ${formatMoney(ORDER_MIN_TOTAL_CENTS)}..${formatMoney(ORDER_MAX_TOTAL_CENTS)}. ` +
        'The same `Idempotency-Key` with the same body answers the same response again and creates nothing; ' +
        'with a different body it is a 422. Keys are per customer. The checkout saga then reserves every line ' +
        '(all or none), charges the card and confirms the order, or cancels it with a `cancellationReason` ' +
        '(`out_of_stock`, `payment_declined`, `payment_failed`, `expired`, `customer_cancelled`), giving back ' +
        'what was done.',
      security: bearer,
      parameters: [parameter('IdempotencyKey'), requestId],
      requestBody: body('PlaceOrderRequest'),
      responses: {
        '202': answer(
          'Accepted; `ETag` is the order’s first revision, `X-Event-Position` the position of its first event.',
          { ...commandHeaders, Location: header('Location') },
          json('PlacedOrder'),
        ),
        '400': problem(
          'The body is not valid JSON or not a valid request, the `Idempotency-Key` is malformed, or the ' +
            'cart is empty.',
        ),
        ...guarded('customer'),
        '422': problem(
          `The order total is outside ${formatMoney(ORDER_MIN_TOTAL_CENTS)}..${formatMoney(ORDER_MAX_TOTAL_CENTS)}, ` +
            'or the `Idempotency-Key` was already used with a different body.',
        ),
        '428': problem('No `Idempotency-Key` header.'),
        ...BODY_PROBLEMS,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/orders/{orderId}': {
    get: {
      tags: ['Orders'],
      operationId: 'getOrder',
      summary: 'Read an order',
      description: 'Roles: customer (own orders only) or admin (any order).',
      security: bearer,
      parameters: [orderId, minPosition, requestId],
      responses: {
        '200': answer('The order.', readHeaders, json('Order')),
        '400': problem(MALFORMED_MIN_POSITION),
        ...guarded('customer', 'admin'),
        '404': ORDER_NOT_FOUND,
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/orders/{orderId}/cancel': {
    post: orderTransition(
      'cancelOrder',
      'Cancel an order',
      'Roles: customer (own orders only) or admin (any order). Cancels a PENDING or CONFIRMED order ' +
        'with the reason `customer_cancelled`; the checkout saga then releases its stock and refunds its payment. ' +
        'No body.',
      '202',
      'The order is SHIPPED, DELIVERED or CANCELLED',
      'customer',
      'admin',
    ),
  },
  '/api/v1/orders/{orderId}/ship': {
    post: orderTransition(
      'shipOrder',
      'Ship an order',
      'Role: admin. Only a CONFIRMED order ships. No body.',
      '200',
      'The order is not CONFIRMED',
      'admin',
    ),
  },
  '/api/v1/orders/{orderId}/deliver': {
    post: orderTransition(
      'deliverOrder',
      'Record an order as delivered',
      'Role: admin. Only a SHIPPED order is delivered. No body.',
      '200',
      'The order is not SHIPPED',
      'admin',
    ),
  },
};

const DEVELOPMENT_ONLY =
  'Development issuer only: served when no identity provider is configured (`OIDC_*` unset), never ' +
  'with `NODE_ENV=production`.';

const audit: Paths = {
  '/api/v1/audit/orders/{orderId}': {
    get: {
      tags: ['Audit'],
      operationId: 'auditOrder',
      summary: 'An order’s history, or the order as it stood at an instant',
      description:
        'Roles: auditor or admin. Read from the event store, never from a read model. Without `asOf`: ' +
        'every event of the order with its metadata and hashes, and whether the hash chain verifies. ' +
        'With `asOf`: the order folded from the events recorded until then, its payment likewise.',
      security: bearer,
      parameters: [
        orderId,
        {
          name: 'asOf',
          in: 'query',
          required: false,
          description:
            'An ISO 8601 date and time with an offset, e.g. `2026-03-01T10:00:00Z`. A date or time that does ' +
            'not exist (31 February, 29 February outside leap years, hour 24, minute or second 60) is a 400, ' +
            'not rolled over.',
          schema: { type: 'string', format: 'date-time' },
        },
        minPosition,
        requestId,
      ],
      responses: {
        '200': answer('The history, or with `asOf` the order at that instant.', projectionHeaders, {
          'application/json': { schema: { oneOf: [schema('OrderHistory'), schema('Order')] } },
        }),
        '400': problem(
          `\`asOf\` is not a date and time with an offset, or names one that does not exist, or ${MALFORMED_MIN_POSITION}`,
        ),
        ...guarded('auditor', 'admin'),
        '404': problem('No such order, or none yet at `asOf`.'),
        '503': UNAVAILABLE,
      },
    },
  },
};

const analysis: Paths = {
  '/api/v1/analytics/sales': {
    get: {
      tags: ['Analysis'],
      operationId: 'salesReport',
      summary: 'Units and revenue per product per day, and orders by status',
      description:
        'Roles: analyst or admin. From the sales read model. A sale is a confirmed order, counted on the ' +
        '(UTC) day it was confirmed and taken back if it is cancelled later; `ordersByStatus` counts the ' +
        'orders placed in the range by their status now. Both days are included.',
      security: bearer,
      parameters: [
        { name: 'from', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
        {
          name: 'to',
          in: 'query',
          required: true,
          description: `Not before \`from\`, and at most ${SALES_RANGE_MAX_DAYS} days with it.`,
          schema: { type: 'string', format: 'date' },
        },
        minPosition,
        requestId,
      ],
      responses: {
        '200': answer('The report.', projectionHeaders, json('SalesReport')),
        '400': problem(
          `A day missing, malformed or that does not exist; \`to\` before \`from\` or over ${SALES_RANGE_MAX_DAYS} ` +
            `days from it; an unknown parameter; or ${MALFORMED_MIN_POSITION}`,
        ),
        ...guarded('analyst', 'admin'),
        '503': UNAVAILABLE,
      },
    },
  },
  '/api/v1/events': {
    get: {
      tags: ['Analysis'],
      operationId: 'exportEvents',
      summary: 'Events in global order, as NDJSON',
      description:
        'Roles: analyst or admin. One event a line, in global order, from `fromPosition` (inclusive) on, ' +
        'at most `limit` lines; the next page starts after the last line’s position.',
      security: bearer,
      parameters: [
        {
          name: 'fromPosition',
          in: 'query',
          required: false,
          description: 'The first position to answer (inclusive); 0, the default, is the beginning.',
          schema: { type: 'integer', minimum: 0, default: 0 },
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 1, maximum: EXPORT_MAX_LIMIT, default: EXPORT_DEFAULT_LIMIT },
        },
        {
          name: 'category',
          in: 'query',
          required: false,
          description: 'Only the streams of this prefix: `order` selects `order-<id>`.',
          schema: { type: 'string', enum: [...STREAM_CATEGORIES] },
        },
        minPosition,
        requestId,
      ],
      responses: {
        '200': answer('The events, one JSON object a line; empty past the newest event.', projectionHeaders, {
          'application/x-ndjson': { schema: schema('ExportedEvent') },
        }),
        '400': problem(
          `A parameter out of range or unknown, a category that is not one of the shop’s, or ${MALFORMED_MIN_POSITION}`,
        ),
        ...guarded('analyst', 'admin'),
        '503': UNAVAILABLE,
      },
    },
  },
};

const identity: Paths = {
  '/dev/token': {
    post: {
      tags: ['Development issuer'],
      operationId: 'issueDevToken',
      summary: 'Issue a token',
      description: `${DEVELOPMENT_ONLY} Public. Signs a token with the key the shop keeps in its data directory; it is validated like any production token.`,
      security: [],
      parameters: [requestId],
      requestBody: body('DevTokenRequest'),
      responses: {
        '200': answer(
          'The token.',
          { 'Cache-Control': { description: '`no-store`', schema: { type: 'string' } } },
          json('DevToken'),
        ),
        '400': problem('The body is not valid JSON or not a valid request.'),
        ...BODY_PROBLEMS,
      },
    },
  },
  '/.well-known/jwks.json': {
    get: {
      tags: ['Development issuer'],
      operationId: 'getJwks',
      summary: 'The development issuer’s public keys',
      description: `${DEVELOPMENT_ONLY} Public.`,
      security: [],
      parameters: [requestId],
      responses: {
        '200': answer(
          'The key set.',
          { 'Cache-Control': { description: '`public, max-age=300`', schema: { type: 'string' } } },
          json('Jwks'),
        ),
      },
    },
  },
};

const operations: Paths = {
  '/health/live': {
    get: {
      tags: ['Operations'],
      operationId: 'live',
      summary: 'Liveness',
      description: 'Public. 200 while the process runs.',
      security: [],
      parameters: [requestId],
      responses: { '200': answer('Up: `{ "status": "up" }`.', {}, json('Health')) },
    },
  },
  '/health/ready': {
    get: {
      tags: ['Operations'],
      operationId: 'ready',
      summary: 'Readiness',
      description:
        'Public. 200 only when the event store and the read-model database answer (each within 2 s) ' +
        'and every consumer of the event stream runs (here or, standing by here, in another instance); ' +
        'a consumer with parked events is `degraded`, which still answers 200. Both answers list every check.',
      security: [],
      parameters: [requestId],
      responses: {
        '200': answer('Ready.', {}, json('Health')),
        '503': answer(
          'Not ready: a check is `down`.',
          { 'Retry-After': header('RetryAfter') },
          json('Health'),
        ),
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['Operations'],
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description:
        'Public. Prometheus text exposition format (`text/plain; version=0.0.4`): process metrics, ' +
        '`eventstore_delivery_stall_seconds`, and per consumer `consumer_events_behind`, ' +
        '`consumer_seconds_behind` and `consumer_parked_events`.',
      security: [],
      parameters: [requestId],
      responses: {
        '200': answer('The metrics.', {}, { 'text/plain': { schema: { type: 'string' } } }),
      },
    },
  },
  '/openapi.json': {
    get: {
      tags: ['Operations'],
      operationId: 'getOpenApi',
      summary: 'This document',
      description: 'Public. The OpenAPI 3.1 description of the API.',
      security: [],
      parameters: [requestId],
      responses: {
        '200': answer(
          'This document.',
          {},
          { 'application/json': { schema: { type: 'object', description: 'An OpenAPI 3.1 document.' } } },
        ),
      },
    },
  },
  '/docs': {
    get: {
      tags: ['Operations'],
      operationId: 'getDocs',
      summary: 'Browse this document',
      description: 'Public. A page (Swagger UI) to browse and try the API; it is served at `/docs/`.',
      security: [],
      parameters: [requestId],
      responses: {
        '200': answer('The page (at `/docs/`).', {}, { 'text/html': { schema: { type: 'string' } } }),
        '301': answer('Redirect from `/docs` to `/docs/`.', { Location: header('Location') }),
      },
    },
  },
};

const RATE_LIMITED = problem(
  `More requests than RATE_LIMIT_PER_MINUTE allows (${RATE_LIMIT_DEFAULT} unless configured) within a ` +
    'minute from one client: the user a verified bearer token names, or, without one (a token that does ' +
    'not verify included), the client address. `Retry-After` says when its minute is over.',
  { 'Retry-After': header('RetryAfter') },
);

/** Each operation of `paths`, changed by `change`. */
function everyOperation(paths: Paths, change: (operation: Operation) => Operation): Paths {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item ?? {}).map(([method, operation]) => [method, change(operation as Operation)]),
      ),
    ]),
  );
}

/** Every operation under /api/v1 may answer 429: the rate limit applies before anything else. */
const rateLimited = (paths: Paths): Paths =>
  everyOperation(paths, (operation) => ({
    ...operation,
    responses: { ...operation.responses, '429': RATE_LIMITED },
  }));

/** Every answer of these operations carries personal data, or may: `Cache-Control: no-store`, problems included. */
const notStored = (paths: Paths): Paths =>
  everyOperation(paths, (operation) => ({
    ...operation,
    responses: Object.fromEntries(
      Object.entries(operation.responses).map(([status, response]) => [
        status,
        {
          ...(response as Response),
          headers: { ...(response as Response).headers, 'Cache-Control': header('NoStore') },
        },
      ]),
    ),
  }));

export const openApiDocument: OpenAPIV3_1.Document = {
  openapi: '3.1.0',
  info: {
    title: 'Shop API',
    version: '1.0.0',
    description: [
      'An event-sourced shop: catalog, inventory, carts and orders. JSON in and out (`application/json`), UTF-8.',
      '',
      '- Money is a decimal **string** with exactly two decimals in responses (`"29.99"`); requests accept ' +
        'a string or a number with at most two decimals, anything else is a 400.',
      '- Ids are UUIDs (server generated), answered lowercased. Any 8-4-4-4-12 hex digits are taken as ' +
        'one, in either case and whatever their version and variant digits, in a path and a body alike; ' +
        'a path id that is not one is a 404, like an unknown one, a body id a 400 naming the field. ' +
        'Timestamps are ISO 8601 UTC strings.',
      '- Errors are RFC 9457 problem details (`application/problem+json`). Unknown fields in a body are ' +
        'refused (400), not ignored, `__proto__` and `constructor` among them, nested ones too; a body ' +
        `nested deeper than ${MAX_BODY_DEPTH} levels (the body itself being the first) is a 400; an unknown ` +
        'path is a 404 problem; an unexpected failure is a 500 problem that says nothing more.',
      '- Optimistic concurrency: every single-aggregate resource answers `ETag: "<revision>"`; writes ' +
        'accept `If-Match: "<revision>"` and answer 412 when it is stale. No GET answers 304: ' +
        '`If-None-Match` is ignored.',
      '- Consistency token: every accepted command answers `X-Event-Position`; any GET under `/api/v1` ' +
        'accepts `X-Min-Position` and answers `X-Projection-Position`. This gives read-your-writes.',
      '- Correlation: `X-Request-Id` is accepted (or generated) and echoed; it becomes the correlation ' +
        'id in the metadata of every event the request causes.',
      '- A request the HTTP parser cannot read (a malformed request line, a control character in a ' +
        'header) is answered with a 400 problem, one with headers over 16 kB with a 431 problem, each ' +
        'without `instance` (there is no path to name), and the connection is closed.',
      `- Privacy: every answer under ${PERSONAL_DATA_PATHS.map((path) => `\`${path}\``).join(', ')}, ` +
        'problems included, carries personal data or may, and is sent with `Cache-Control: no-store`.',
      '- Text: a string anywhere in a body (a field name too) holding NUL, a lone surrogate or a control ' +
        'character is a 400 naming the field; tab and newline are refused too, except in a product ' +
        'description. Names, address lines and card tokens holding only whitespace or invisible ' +
        'characters are refused likewise. Each field’s `pattern` states its rule (read with the `u` flag).',
      '',
      'Not served yet: lists and search, sales analytics.',
    ].join('\n'),
  },
  tags: [
    { name: 'Catalog', description: 'Categories and products; reads are public.' },
    { name: 'Inventory', description: 'Stock per product.' },
    { name: 'Cart', description: 'Always the caller’s own cart.' },
    { name: 'Orders', description: 'Placing orders and moving them along.' },
    { name: 'Audit', description: 'Order histories from the event store, and whether they verify.' },
    { name: 'Analysis', description: 'The event stream, for replay and export.' },
    { name: 'Development issuer', description: DEVELOPMENT_ONLY },
    { name: 'Operations', description: 'Health, metrics and this document.' },
  ],
  paths: {
    ...rateLimited(catalog),
    ...notStored(rateLimited({ ...cart, ...orders, ...audit, ...analysis })),
    ...identity,
    ...operations,
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'A JWT signed with RS256, validated against the issuer’s JWKS (the key chosen by `kid`), with ' +
          'issuer, audience and expiry checked (5 s clock tolerance). `sub` is the user id; roles are read ' +
          `from \`realm_access.roles\` (Keycloak layout): ${ROLES.join(', ')}.`,
      },
    },
    parameters: {
      ProductId: {
        name: 'productId',
        in: 'path',
        required: true,
        description: 'A product id; one that is not a UUID is a 404.',
        schema: { type: 'string', format: 'uuid' },
      },
      OrderId: {
        name: 'orderId',
        in: 'path',
        required: true,
        description: 'An order id; one that is not a UUID is a 404.',
        schema: { type: 'string', format: 'uuid' },
      },
      IfMatch: {
        name: 'If-Match',
        in: 'header',
        required: false,
        description:
          'Apply the write only to this revision of the resource (its `ETag`), quoted; `"-1"` names a ' +
          'resource with no history yet. Stale: 412; anything but a quoted revision (`*`, a weak tag, a list): 400.',
        schema: { type: 'string', pattern: '^"(-1|\\d{1,15})"$' },
        examples: { revision: { value: '"3"' } },
      },
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        description:
          'Names the order for this customer: the same key with the same body answers the same response ' +
          'again and creates nothing; with a different body it is a 422. Missing: 428; malformed: 400.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
      },
      XMinPosition: {
        name: 'X-Min-Position',
        in: 'header',
        required: false,
        description:
          'A command’s `X-Event-Position`: the server waits (at most 5 s) until the data it reads from has ' +
          'caught up with that position, then answers. When the wait runs out it answers anyway, with a ' +
          'lower `X-Projection-Position`. Not a whole number: 400.',
        schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
      XRequestId: {
        name: 'X-Request-Id',
        in: 'header',
        required: false,
        description:
          'The correlation id of every event the request causes, echoed in the answer. A value that does ' +
          'not match the pattern is replaced by a generated UUID, not refused.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
      },
    },
    headers: {
      ETag: {
        description:
          'The revision of the one aggregate the answer is about, quoted: what `If-Match` takes. `"-1"` ' +
          'when it has no history yet.',
        schema: { type: 'string', pattern: '^"(-1|\\d+)"$' },
      },
      XEventPosition: {
        description:
          'The global position of the last event the command appended; when it changed nothing, of the ' +
          'last event of its stream (0 when there is none). Send it as `X-Min-Position` to read your write.',
        schema: { type: 'integer', minimum: 0 },
      },
      XProjectionPosition: {
        description:
          'Every event up to this position has been applied to (or had nothing to do with) the data in ' +
          'the answer. Sent on every answer to a GET under `/api/v1`, problems included.',
        schema: { type: 'integer', minimum: 0 },
      },
      NoStore: {
        description:
          '`no-store`: the answer carries personal data (a cart, orders, an order’s history, events), so ' +
          'no cache may keep it. Sent on every answer under these paths, problems included.',
        schema: { type: 'string', enum: ['no-store'] },
      },
      XRequestId: {
        description: 'The request’s `X-Request-Id`, or the one generated for it.',
        schema: { type: 'string' },
      },
      Location: {
        description: 'The path of the resource.',
        schema: { type: 'string', format: 'uri-reference' },
      },
      RetryAfter: {
        description: 'Seconds to wait before trying again.',
        schema: { type: 'integer', minimum: 0 },
      },
      WWWAuthenticate: {
        description:
          'The bearer challenge: `Bearer realm="shop"` without a token; with ' +
          '`error="invalid_token", error_description="..."` for a token that does not verify; with ' +
          '`error="insufficient_scope"` on a 403.',
        schema: { type: 'string' },
      },
    },
    schemas,
  },
};
