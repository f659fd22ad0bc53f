import type { AddressInfo } from 'node:net';
import express from 'express';

/**
 * The floor a read is compared with: express answering a constant JSON body the size of a product,
 * with no middleware, no authentication and no database.
 */
const PRODUCT = {
  id: '00000000-0000-4000-8000-000000000000',
  name: 'Bench product',
  description: null,
  price: '25.00',
  categoryId: null,
  imageUrl: null,
  active: true,
  availableQuantity: 1000000,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
};

const app = express();
app.get('/constant', (_request, response) => {
  response.json(PRODUCT);
});
app.get('/health/ready', (_request, response) => {
  response.json({ status: 'up' });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
