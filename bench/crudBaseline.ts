/**
 * The plain CRUD shop the checkout bench measures ours against, run as a child process of the bench:
 * express and pg, a cart in a table, and an order placed in one transaction that locks its stock
 * rows, decrements them, and writes the order, its lines and a captured payment before it answers
 * CONFIRMED. Bearer tokens are RS256 JWTs checked on every request, like the shop's.
 *
 * Environment: BASELINE_DATABASE_URL (a fresh database), PORT (0 for any). Tells the bench its port
 * over the IPC channel, and ends when that channel closes, so that it never outlives the bench.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import jwt from 'jsonwebtoken';
import pg from 'pg';

const ISSUER = 'crud-baseline';
const AUDIENCE = 'shop-api';
const TOKEN_LIFETIME_SECONDS = 3600;

const SCHEMA = `
  CREATE TABLE products (id uuid PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL,
                         stock integer NOT NULL CHECK (stock >= 0));
  CREATE TABLE cart_items (user_id text NOT NULL, product_id uuid NOT NULL REFERENCES products,
                           quantity integer NOT NULL, unit_price_cents integer NOT NULL,
                           PRIMARY KEY (user_id, product_id));
  CREATE TABLE orders (id uuid PRIMARY KEY, user_id text NOT NULL, idempotency_key text NOT NULL,
                       status text NOT NULL, total_cents integer NOT NULL, shipping_address jsonb NOT NULL,
                       created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (user_id, idempotency_key));
  CREATE TABLE order_lines (order_id uuid NOT NULL REFERENCES orders, product_id uuid NOT NULL REFERENCES products,
                            quantity integer NOT NULL, unit_price_cents integer NOT NULL,
                            PRIMARY KEY (order_id, product_id));
  CREATE TABLE payments (id uuid PRIMARY KEY, order_id uuid NOT NULL UNIQUE REFERENCES orders,
                         amount_cents integer NOT NULL, token text NOT NULL, status text NOT NULL,
                         created_at timestamptz NOT NULL DEFAULT now());
`;

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface PlacedOrder {
  orderId: string;
  status: string;
  totalAmount: string;
}

/** Thrown inside the transaction, so that a repeated request rolls back and answers the first order. */
class AlreadyPlaced extends Error {
  constructor(readonly order: PlacedOrder) {
    super('placed before under this key');
  }
}

interface Caller {
  userId: string;
  roles: string[];
}

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

function callerOf(request: Request, role: string): Caller {
  const header = request.header('authorization');
  if (!header?.startsWith('Bearer ')) throw new Refused(401, 'a bearer token is required');
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(header.slice('Bearer '.length), publicKey, {
      algorithms: ['RS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTolerance: 5,
    }) as jwt.JwtPayload;
  } catch {
    throw new Refused(401, 'the token is invalid');
  }
  const roles = (claims.realm_access as { roles?: string[] } | undefined)?.roles ?? [];
  if (typeof claims.sub !== 'string' || !roles.includes(role)) throw new Refused(403, `requires ${role}`);
  return { userId: claims.sub, roles };
}

function parseCents(price: unknown): number {
  if (typeof price !== 'string' || !/^\d{1,7}\.\d{2}$/.test(price)) throw new Refused(400, 'price: "25.00"');
  return Math.round(Number(price) * 100);
}

function positiveInteger(value: unknown, field: string, max: number): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new Refused(400, `${field} must be an integer from 1 to ${max}`);
  }
  return value as number;
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const formatCents = (cents: number): string => (cents / 100).toFixed(2);

/** Takes the caller's cart, checks and decrements stock under row locks, and records order and payment. */
async function placeOrder(
  pool: pg.Pool,
  userId: string,
  idempotencyKey: string,
  body: { shippingAddress?: unknown; paymentMethod?: { token?: unknown } },
): Promise<PlacedOrder> {
  const token = body.paymentMethod?.token;
  if (
    typeof body.shippingAddress !== 'object' ||
    body.shippingAddress === null ||
    typeof token !== 'string'
  ) {
    throw new Refused(400, 'shippingAddress and paymentMethod.token are required');
  }
  // The payment provider, as simulated: any tok_* but tok_declined is captured at once.
  if (!token.startsWith('tok_') || token === 'tok_declined') throw new Refused(402, 'payment declined');
  const placing = inTransaction(pool, async (client) => {
    const cart = await client.query<{ product_id: string; quantity: number; unit_price_cents: number }>(
      'DELETE FROM cart_items WHERE user_id = $1 RETURNING product_id, quantity, unit_price_cents',
      [userId],
    );
    if (cart.rows.length === 0) throw new Refused(400, 'the cart is empty');
    const totalCents = cart.rows.reduce((sum, line) => sum + line.quantity * line.unit_price_cents, 0);
    if (totalCents < 1000 || totalCents > 1_000_000) throw new Refused(422, 'total out of 10.00..10000.00');
    const orderId = randomUUID();
    const inserted = await client.query(
      `INSERT INTO orders (id, user_id, idempotency_key, status, total_cents, shipping_address)
       VALUES ($1, $2, $3, 'CONFIRMED', $4, $5) ON CONFLICT (user_id, idempotency_key) DO NOTHING`,
      [orderId, userId, idempotencyKey, totalCents, body.shippingAddress],
    );
    if (inserted.rowCount === 0) {
      const first = await client.query<{ id: string; status: string; total_cents: number }>(
        'SELECT id, status, total_cents FROM orders WHERE user_id = $1 AND idempotency_key = $2',
        [userId, idempotencyKey],
      );
      const [row] = first.rows;
      if (!row) throw new Error('an order that conflicts is gone');
      throw new AlreadyPlaced({
        orderId: row.id,
        status: row.status,
        totalAmount: formatCents(row.total_cents),
      });
    }
    const productIds = cart.rows.map((line) => line.product_id);
    const quantities = cart.rows.map((line) => line.quantity);
    const stock = await client.query<{ id: string; stock: number }>(
      'SELECT id, stock FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
      [productIds],
    );
    const available = new Map(stock.rows.map((row) => [row.id, row.stock]));
    for (const line of cart.rows) {
      if ((available.get(line.product_id) ?? 0) < line.quantity) throw new Refused(409, 'out of stock');
    }
    await client.query(
      `UPDATE products SET stock = stock - line.quantity
       FROM unnest($1::uuid[], $2::integer[]) AS line (id, quantity) WHERE products.id = line.id`,
      [productIds, quantities],
    );
    await client.query(
      `INSERT INTO order_lines (order_id, product_id, quantity, unit_price_cents)
       SELECT $1, * FROM unnest($2::uuid[], $3::integer[], $4::integer[])`,
      [orderId, productIds, quantities, cart.rows.map((line) => line.unit_price_cents)],
    );
    await client.query(
      `INSERT INTO payments (id, order_id, amount_cents, token, status) VALUES ($1, $2, $3, $4, 'CAPTURED')`,
      [randomUUID(), orderId, totalCents, token],
    );
    return { orderId, status: 'CONFIRMED', totalAmount: formatCents(totalCents) };
  });
  // The same key again: the first answer, and this cart stays as it was.
  return placing.catch((error: unknown) => {
    if (error instanceof AlreadyPlaced) return error.order;
    throw error;
  });
}

async function main(): Promise<void> {
  const connectionString = process.env.BASELINE_DATABASE_URL;
  if (!connectionString) throw new Error('BASELINE_DATABASE_URL is required');
  const pool = new pg.Pool({ connectionString, max: 20, application_name: 'crud-baseline' });
  pool.on('error', () => undefined);
  await pool.query(SCHEMA);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json());

  app.post('/dev/token', (request, response) => {
    const { sub, roles } = request.body as { sub: string; roles: string[] };
    const token = jwt.sign({ realm_access: { roles } }, privateKey, {
      algorithm: 'RS256',
      subject: sub,
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: TOKEN_LIFETIME_SECONDS,
      keyid: 'baseline',
    });
    response.json({ access_token: token, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS });
  });

  app.post('/products', async (request, response) => {
    callerOf(request, 'admin');
    const body = request.body as { name?: unknown; price?: unknown; initialStock?: unknown };
    if (typeof body.name !== 'string') throw new Refused(400, 'name is required');
    const id = randomUUID();
    await pool.query('INSERT INTO products (id, name, price_cents, stock) VALUES ($1, $2, $3, $4)', [
      id,
      body.name,
      parseCents(body.price),
      body.initialStock ?? 0,
    ]);
    response.status(201).json({ id });
  });

  app.post('/cart/items', async (request, response) => {
    const { userId } = callerOf(request, 'customer');
    const body = request.body as { productId?: unknown; quantity?: unknown };
    const quantity = positiveInteger(body.quantity, 'quantity', 50);
    const added = await pool.query(
      `INSERT INTO cart_items (user_id, product_id, quantity, unit_price_cents)
       SELECT $1, id, $3, price_cents FROM products WHERE id = $2
       ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity`,
      [userId, body.productId, quantity],
    );
    if (added.rowCount === 0) throw new Refused(404, 'no such product');
    const cart = await pool.query<{ product_id: string; quantity: number; unit_price_cents: number }>(
      'SELECT product_id, quantity, unit_price_cents FROM cart_items WHERE user_id = $1 ORDER BY product_id',
      [userId],
    );
    response.json({
      items: cart.rows.map((line) => ({
        productId: line.product_id,
        quantity: line.quantity,
        unitPrice: formatCents(line.unit_price_cents),
      })),
    });
  });

  app.post('/orders', async (request, response) => {
    const { userId } = callerOf(request, 'customer');
    const key = request.header('idempotency-key');
    if (!key || !/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw new Refused(400, 'Idempotency-Key is required');
    response.status(201).json(await placeOrder(pool, userId, key, request.body as object));
  });

  app.get('/health/ready', async (_request, response) => {
    await pool.query('SELECT 1');
    response.json({ status: 'up' });
  });

  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const status = error instanceof Refused ? error.status : 500;
    response.status(status).json({ status, detail: error instanceof Refused ? error.message : 'failed' });
  });

  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    void pool.end().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The bench is gone, however it ended: so is its baseline.
  process.once('disconnect', stop);
  process.send?.({ port: (server.address() as AddressInfo).port });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `the CRUD baseline could not start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
