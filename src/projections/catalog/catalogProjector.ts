import {
  evolve as evolveProduct,
  type ExistingProduct,
  type ProductEvent,
} from '../../domain/catalog/product.js';
import type { CategoryEvent } from '../../domain/catalog/category.js';
import type { InventoryEvent } from '../../domain/inventory/inventory.js';
import { assertNever } from '../../domain/shared/assertNever.js';
import { categoryOfEventType } from '../../domain/shopEvents.js';
import type { Consumer } from '../consumer.js';
import {
  type Column,
  type FoldedRow,
  foldRows,
  type RowTable,
  inCategory,
  schemaName,
  upsertRows,
} from '../foldRows.js';

export const CATALOG_PROJECTOR = 'catalog';

/** The schema the shop serves the catalog from; a rebuild fills another, then takes this name. */
export const CATALOG_SCHEMA = 'catalog';

type ProductRow = FoldedRow & ExistingProduct;

const PRODUCT_COLUMNS: readonly Column[] = [
  { name: 'id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'name', type: 'text' },
  { name: 'description', type: 'text' },
  { name: 'price_cents', type: 'bigint' },
  { name: 'category_id', type: 'uuid' },
  { name: 'image_url', type: 'text' },
  { name: 'active', type: 'boolean' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

const STOCK_COLUMNS: readonly Column[] = [
  { name: 'product_id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'on_hand', type: 'bigint' },
  { name: 'reserved', type: 'bigint' },
];

const CATEGORY_COLUMNS: readonly Column[] = [
  { name: 'id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'name', type: 'text' },
  { name: 'created_at', type: 'timestamptz' },
];

interface StockRow extends FoldedRow {
  productId: string;
  onHand: number;
  reserved: number;
}

interface CategoryRow extends FoldedRow {
  id: string;
  name: string;
  createdAt: string;
}

function productTable(schema: string): RowTable<ProductRow, ProductEvent> {
  return {
    keyOf: (event) => event.data.productId,
    load: async (query, keys) => {
      const { rows } = await query<{
        id: string;
        revision: string;
        name: string;
        description: string | null;
        price_cents: string;
        category_id: string | null;
        image_url: string | null;
        active: boolean;
        created_at: Date;
        updated_at: Date;
      }>(`SELECT * FROM ${schema}.products WHERE id = ANY($1::uuid[])`, [keys]);
      return new Map(
        rows.map((row) => [
          row.id,
          {
            revision: Number(row.revision),
            status: row.active ? 'Active' : 'Inactive',
            id: row.id,
            name: row.name,
            description: row.description,
            priceCents: Number(row.price_cents),
            categoryId: row.category_id,
            imageUrl: row.image_url,
            createdAt: row.created_at.toISOString(),
            updatedAt: row.updated_at.toISOString(),
          },
        ]),
      );
    },
    // The product's own fold: the list shows a product as GET /products/{id} does.
    apply: (row, event, revision) => {
      const next = evolveProduct(row ?? { status: 'Absent' }, event);
      return next.status === 'Absent' ? undefined : { ...next, revision };
    },
    save: (query, rows) =>
      upsertRows(
        query,
        `${schema}.products`,
        'id',
        PRODUCT_COLUMNS,
        rows.map((row) => ({
          id: row.id,
          revision: row.revision,
          name: row.name,
          description: row.description,
          price_cents: row.priceCents,
          category_id: row.categoryId,
          image_url: row.imageUrl,
          active: row.status === 'Active',
          created_at: row.createdAt,
          updated_at: row.updatedAt,
        })),
      ),
  };
}

/** What an inventory event does to the totals: reservations per order are the stream's business. */
function stockChange(event: InventoryEvent): { onHand: number; reserved: number } {
  const { quantity } = event.data;
  switch (event.type) {
    case 'StockRestocked':
    case 'StockReturned':
      return { onHand: quantity, reserved: 0 };
    case 'StockReserved':
      return { onHand: 0, reserved: quantity };
    case 'ReservationReleased':
      return { onHand: 0, reserved: -quantity };
    case 'ReservationCommitted':
      return { onHand: -quantity, reserved: -quantity };
    case 'ReservationRejected':
      return { onHand: 0, reserved: 0 };
    default:
      return assertNever(event);
  }
}

function stockTable(schema: string): RowTable<StockRow, InventoryEvent> {
  return {
    keyOf: (event) => event.data.productId,
    load: async (query, keys) => {
      const { rows } = await query<{
        product_id: string;
        revision: string;
        on_hand: string;
        reserved: string;
      }>(`SELECT * FROM ${schema}.stock WHERE product_id = ANY($1::uuid[])`, [keys]);
      return new Map(
        rows.map((row) => [
          row.product_id,
          {
            productId: row.product_id,
            revision: Number(row.revision),
            onHand: Number(row.on_hand),
            reserved: Number(row.reserved),
          },
        ]),
      );
    },
    apply: (row, event, revision) => {
      const change = stockChange(event);
      return {
        productId: event.data.productId,
        revision,
        onHand: (row?.onHand ?? 0) + change.onHand,
        reserved: (row?.reserved ?? 0) + change.reserved,
      };
    },
    save: (query, rows) =>
      upsertRows(
        query,
        `${schema}.stock`,
        'product_id',
        STOCK_COLUMNS,
        rows.map((row) => ({
          product_id: row.productId,
          revision: row.revision,
          on_hand: row.onHand,
          reserved: row.reserved,
        })),
      ),
  };
}

function categoryTable(schema: string): RowTable<CategoryRow, CategoryEvent> {
  return {
    keyOf: (event) => event.data.categoryId,
    load: async (query, keys) => {
      const { rows } = await query<{ id: string; revision: string; name: string; created_at: Date }>(
        `SELECT * FROM ${schema}.categories WHERE id = ANY($1::uuid[])`,
        [keys],
      );
      return new Map(
        rows.map((row) => [
          row.id,
          {
            id: row.id,
            revision: Number(row.revision),
            name: row.name,
            createdAt: row.created_at.toISOString(),
          },
        ]),
      );
    },
    apply: (_row, event, revision) => ({
      id: event.data.categoryId,
      revision,
      name: event.data.name,
      createdAt: event.data.createdAt,
    }),
    save: (query, rows) =>
      upsertRows(
        query,
        `${schema}.categories`,
        'id',
        CATEGORY_COLUMNS,
        rows.map((row) => ({
          id: row.id,
          revision: row.revision,
          name: row.name,
          created_at: row.createdAt,
        })),
      ),
  };
}

const CATALOG_CATEGORIES = new Set(['product', 'category', 'inventory']);

/**
 * Keeps the catalog's tables in `schema`: products (as their own fold has them), their stock, and
 * the categories. A batch costs two statements a table it touches, whatever its size.
 */
export function catalogProjector(schema: string = CATALOG_SCHEMA): Consumer {
  const tables = {
    products: productTable(schemaName(schema)),
    stock: stockTable(schemaName(schema)),
    categories: categoryTable(schemaName(schema)),
  };
  return {
    name: CATALOG_PROJECTOR,
    wants: (event) => CATALOG_CATEGORIES.has(categoryOfEventType(event.type) ?? ''),
    handle: async (events, tx) => {
      await foldRows(tx.query, tables.products, events.filter(inCategory<ProductEvent>('product')));
      await foldRows(tx.query, tables.stock, events.filter(inCategory<InventoryEvent>('inventory')));
      await foldRows(tx.query, tables.categories, events.filter(inCategory<CategoryEvent>('category')));
    },
  };
}
