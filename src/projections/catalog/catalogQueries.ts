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

const SORT_COLUMNS: Record<ProductSortKey, string> = {
  name: 'p.name',
  price: 'p.price_cents',
  createdAt: 'p.created_at',
};

interface ListedRow {
  total: number;
  id: string | null;
  name: string;
  description: string | null;
  price_cents: string;
  category_id: string | null;
  image_url: string | null;
  available: string;
  created_at: Date;
  updated_at: Date;
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
  const { rows } = await query<ListedRow>(
    `WITH matching AS (
       SELECT p.*, ${terms === undefined ? '0' : `ts_rank(p.search, ${terms})`} AS rank
         FROM ${schema}.products p
        WHERE ${conditions.join(' AND ')})
     SELECT t.total, page.* FROM (SELECT count(*)::int AS total FROM matching) t
       LEFT JOIN LATERAL (
         SELECT p.id, p.name, p.description, p.price_cents, p.category_id, p.image_url,
                greatest(coalesce(s.on_hand - s.reserved, 0), 0) AS available, p.created_at, p.updated_at
           FROM matching p LEFT JOIN ${schema}.stock s ON s.product_id = p.id
          ORDER BY ${order}
          LIMIT $1 OFFSET $2) page ON true`,
    values,
  );
  const items = rows.flatMap((row): ListedProduct[] =>
    row.id === null
      ? []
      : [
          {
            id: row.id,
            name: row.name,
            description: row.description,
            priceCents: Number(row.price_cents),
            categoryId: row.category_id,
            imageUrl: row.image_url,
            availableQuantity: Number(row.available),
            createdAt: row.created_at.toISOString(),
            updatedAt: row.updated_at.toISOString(),
          },
        ],
  );
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
