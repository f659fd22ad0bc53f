import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { inventories, products } from '../../src/commands/aggregates.js';
import { createProduct, type NewProduct } from '../../src/commands/catalog/product.js';
import type { CommandEnvironment } from '../../src/commands/commandEnvironment.js';
import type { CommandContext } from '../../src/commands/commandHandler.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import type { EventStore } from '../../src/eventstore/eventStore.js';
import { openPostgresCommands, type PostgresCommands } from '../support/postgresCommands.js';

const context: CommandContext = {
  actor: 'system:test',
  correlationId: randomUUID(),
  causationId: randomUUID(),
};

const kettle = (overrides: Partial<NewProduct> = {}): NewProduct => ({
  name: 'Kettle',
  priceCents: 2500,
  initialStock: 7,
  ...overrides,
});

/** The same commands, but the connection drops whenever a stream of `category` is appended to. */
function failingOn(category: string, env: CommandEnvironment): CommandEnvironment {
  const store: EventStore = Object.create(env.streams.store) as EventStore;
  store.append = (streamId, events, expected) =>
    streamId.startsWith(`${category}-`)
      ? Promise.reject(new Error('Connection terminated unexpectedly'))
      : env.streams.store.append(streamId, events, expected);
  return { ...env, streams: { ...env.streams, store } };
}

describe('Creating a product with its stock', () => {
  let postgres: PostgresCommands;

  before(async () => {
    postgres = await openPostgresCommands();
  });

  after(async () => {
    await postgres.close();
  });

  const streamLength = async (streamId: string): Promise<number> =>
    (await postgres.store.readStream(streamId)).length;

  it('writes the product and its first stock, answering the product’s position', async () => {
    const created = await createProduct(postgres.env, kettle(), context);

    expect(created.revision).to.equal(0);
    const [product] = await postgres.store.readStream(products.streamId(created.productId));
    const [restocked] = await postgres.store.readStream(inventories.streamId(created.productId));
    expect(product?.position).to.equal(created.position);
    expect(restocked?.data).to.include({ quantity: 7 });
    expect(restocked?.position).to.be.below(created.position ?? 0);
  });

  it('writes no stock stream for a product created without stock', async () => {
    const created = await createProduct(postgres.env, kettle({ initialStock: 0 }), context);
    expect(await streamLength(inventories.streamId(created.productId))).to.equal(0);
  });

  it('refuses an invalid product before writing anything, its stock included', async () => {
    const headBefore = await postgres.store.headPosition();
    const refusal = await createProduct(postgres.env, kettle({ name: 'x'.repeat(256) }), context).catch(
      (error: unknown) => error,
    );
    expect(refusal).to.be.instanceOf(ValidationError);
    expect(await postgres.store.headPosition()).to.equal(headBefore);
  });

  it('refuses a category that does not exist, naming the field, before writing anything', async () => {
    const headBefore = await postgres.store.headPosition();
    const refusal = await createProduct(postgres.env, kettle({ categoryId: randomUUID() }), context).catch(
      (error: unknown) => error,
    );
    expect(refusal).to.be.instanceOf(ValidationError).and.to.include({ field: 'categoryId' });
    expect(await postgres.store.headPosition()).to.equal(headBefore);
  });

  it('leaves no visible product when the connection drops on the stock, the first append', async () => {
    const headBefore = await postgres.store.headPosition();
    const failure = await createProduct(failingOn('inventory', postgres.env), kettle(), context).catch(
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(Error);
    expect(await postgres.store.headPosition()).to.equal(headBefore);
  });
});
