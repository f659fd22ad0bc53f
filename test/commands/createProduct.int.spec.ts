import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createProduct } from '../../src/commands/catalog/createProduct.js';
import type { CommandBus, CommandContext } from '../../src/commands/commandHandler.js';
import type { CreateProduct } from '../../src/domain/catalog/product.decide.js';
import { productStreamId } from '../../src/domain/catalog/product.js';
import { inventoryStreamId } from '../../src/domain/inventory/inventory.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import type { EventStore } from '../../src/eventstore/eventStore.js';
import { openPostgresBus, type PostgresBus } from '../support/postgresBus.js';

const context: CommandContext = {
  actor: 'system:test',
  correlationId: randomUUID(),
  causationId: randomUUID(),
};

const newProduct = (overrides: Partial<CreateProduct> = {}): CreateProduct => ({
  type: 'CreateProduct',
  productId: randomUUID(),
  name: 'Kettle',
  priceCents: 2500,
  now: '2025-03-01T10:00:00.000Z',
  ...overrides,
});

/** The same bus, but the connection drops whenever a stream of `category` is appended to. */
function failingOn(category: string, bus: CommandBus): CommandBus {
  const store: EventStore = Object.create(bus.store) as EventStore;
  store.append = (streamId, events, expected) =>
    streamId.startsWith(`${category}-`)
      ? Promise.reject(new Error('Connection terminated unexpectedly'))
      : bus.store.append(streamId, events, expected);
  return { ...bus, store };
}

describe('Creating a product with its stock', () => {
  let postgres: PostgresBus;

  before(async () => {
    postgres = await openPostgresBus();
  });

  after(async () => {
    await postgres.close();
  });

  const streamLength = async (streamId: string): Promise<number> =>
    (await postgres.store.readStream(streamId)).length;

  it('writes the product and its first stock, answering the product’s position', async () => {
    const command = newProduct();
    const created = await createProduct(postgres.bus, command, 7, context);

    expect(created.revision).to.equal(0);
    const [product] = await postgres.store.readStream(productStreamId(command.productId));
    const [restocked] = await postgres.store.readStream(inventoryStreamId(command.productId));
    expect(product?.position).to.equal(created.position);
    expect(restocked?.data).to.include({ quantity: 7 });
    expect(restocked?.position).to.be.below(created.position ?? 0);
  });

  it('writes no stock stream for a product created without stock', async () => {
    const command = newProduct();
    await createProduct(postgres.bus, command, 0, context);
    expect(await streamLength(inventoryStreamId(command.productId))).to.equal(0);
  });

  it('refuses an invalid product before writing anything, its stock included', async () => {
    const command = newProduct({ name: 'x'.repeat(256) });
    const headBefore = await postgres.store.headPosition();

    let refusal: unknown;
    await createProduct(postgres.bus, command, 5, context).catch((error: unknown) => (refusal = error));

    expect(refusal).to.be.instanceOf(ValidationError);
    expect(await postgres.store.headPosition()).to.equal(headBefore);
  });

  it('leaves no visible product when the connection drops on the stock, the first append', async () => {
    const command = newProduct();

    let failure: unknown;
    await createProduct(failingOn('inventory', postgres.bus), command, 5, context).catch(
      (error: unknown) => (failure = error),
    );

    expect(failure).to.be.instanceOf(Error);
    expect(await streamLength(productStreamId(command.productId))).to.equal(0);
  });
});
