import type { SqlQuery } from '../consumer.js';
import { CATALOG_SCHEMA } from './catalogProjector.js';

export const PRODUCT_SORT_KEYS = ['name', 'price', 'createdAt'] as const;
export type ProductSortKey = (typeof PRODUCT_SORT_KEYS)[number];
export const SORT_DIRECTIONS = ['ASC', 'DESC'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

export interface ProductSearch {
  /** Words to find, as a search box takes them (`websearch_to_tsquery`): any text is a valid search. */
  search?: string | undefined;
  categoryId?: string | undefined;
  /** Unset: the most relevant first when searching, else by name. */
  sortBy?: ProductSortKey | undefined;
  sortDir?: SortDirection | undefined;
  page: number;
  size: number;
}

export interface ListedProduct {
  id: string;
  name: string;
  description: string | null;
  priceCents: number;
  categoryId: string | null;
  imageUrl: string | null;
  availableQuantity: number;
  createdAt: string;
  updatedAt: string;
}

/** A product as its own GET answers it: listed or not, with the revision its `ETag` names. */
export interface CatalogProduct extends ListedProduct {
  active: boolean;
  revision: number;
}

const SORT_COLUMNS: Record<ProductSortKey, string> = {
  name: 'p.name',
  price: 'p.price_cents',
  createdAt: 'p.created_at',
};

interface ProductRow {
  id: string;
  name: string;
  description: string | null;
  price_cents: string;
  category_id: string | null;
  image_url: string | null;
  available: string;
  created_at: Date;
  updated_at: Date;
}

const listedProduct = (row: ProductRow): ListedProduct => ({
  id: row.id,
  name: row.name,
  description: row.description,
  priceCents: Number(row.price_cents),
  categoryId: row.category_id,
  imageUrl: row.image_url,
  availableQuantity: Number(row.available),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** What can still be ordered of a product: a product never restocked has no stock row. */
const AVAILABLE = 'greatest(coalesce(s.on_hand - s.reserved, 0), 0) AS available';

/** One product, active or not, with its stock, in one statement; undefined if there is none. */
export async function findProduct(query: SqlQuery, productId: string): Promise<CatalogProduct | undefined> {
  const { rows } = await query<ProductRow & { active: boolean; revision: string }>(
    `SELECT p.*, ${AVAILABLE}
       FROM ${CATALOG_SCHEMA}.products p LEFT JOIN ${CATALOG_SCHEMA}.stock s ON s.product_id = p.id
      WHERE p.id = $1`,
    [productId],
  );
  const row = rows[0];
  return row && { ...listedProduct(row), active: row.active, revision: Number(row.revision) };
}

/**
 * A page of the active products that match, and how many match in all, in one statement. The id
 * breaks ties, so that pages neither repeat nor skip a product.
 */
export async function listProducts(
  query: SqlQuery,
  request: ProductSearch,
): Promise<{ items: ListedProduct[]; totalItems: number }> {
  const schema = CATALOG_SCHEMA;
  const values: unknown[] = [request.size, request.page * request.size];
  const parameter = (value: unknown): string => `$${values.push(value)}`;
  // Each filter is in the statement only when asked for, so that the planner sees what it is.
  const terms =
    request.search === undefined
      ? undefined
      : `websearch_to_tsquery('english', ${parameter(request.search)})`;
  const conditions = [
    'p.active',
    ...(terms === undefined ? [] : [`p.search @@ ${terms}`]),
    ...(request.categoryId === undefined ? [] : [`p.category_id = ${parameter(request.categoryId)}`]),
  ];
  const direction = request.sortDir ?? 'ASC';
  const order =
    request.sortBy !== undefined
      ? `${SORT_COLUMNS[request.sortBy]} ${direction}, p.id ${direction}`
      : terms !== undefined
        ? 'rank DESC, p.id'
        : 'p.name, p.id';
  const { rows } = await query<{ total: number } & (ProductRow | { [K in keyof ProductRow]: null })>(
    `WITH matching AS (
       SELECT p.*, ${terms === undefined ? '0' : `ts_rank(p.search, ${terms})`} AS rank
         FROM ${schema}.products p
        WHERE ${conditions.join(' AND ')})
     SELECT t.total, page.* FROM (SELECT count(*)::int AS total FROM matching) t
       LEFT JOIN LATERAL (
         SELECT p.id, p.name, p.description, p.price_cents, p.category_id, p.image_url,
                ${AVAILABLE}, p.created_at, p.updated_at
           FROM matching p LEFT JOIN ${schema}.stock s ON s.product_id = p.id
          ORDER BY ${order}
          LIMIT $1 OFFSET $2) page ON true`,
    values,
  );
  // A page past the last still has its count: the row the LEFT JOIN keeps without a product.
  const items = rows.flatMap((row) => (row.id === null ? [] : [listedProduct(row)]));
  return { items, totalItems: rows[0]?.total ?? 0 };
}

export interface ListedCategory {
  id: string;
  name: string;
}

/** Every category, by name: API.md lists them whole, unpaged. */
export async function listCategories(query: SqlQuery): Promise<ListedCategory[]> {
  const { rows } = await query<ListedCategory>(
    `SELECT id, name FROM ${CATALOG_SCHEMA}.categories ORDER BY name, id`,
  );
  return rows;
}
