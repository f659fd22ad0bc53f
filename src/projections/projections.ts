import { CATALOG_PROJECTOR, CATALOG_SCHEMA, catalogProjector } from './catalog/catalogProjector.js';
import type { Consumer } from './consumer.js';
import { ORDERS_PROJECTOR, ORDERS_SCHEMA, ordersProjector } from './orders/ordersProjector.js';
import { SALES_PROJECTOR, SALES_SCHEMA, salesProjector } from './sales/salesProjector.js';

/** A read model: the projector that keeps it, and the schema its tables are served from. */
export interface Projection {
  /** The projector's name: its checkpoint, its lock, and what `npm run replay -- --projection` takes. */
  name: string;
  schema: string;
  /**
   * Raised whenever the projector would build its tables differently from the same events: a shop
   * that starts with a higher version than its read model was built by rebuilds it.
   */
  version: number;
  /** The projector writing into `schema`'s tables: the served one, or a rebuild's copy. */
  projector(schema: string): Consumer;
}

/** Every read model of the shop, in the order their projectors start. */
export const PROJECTIONS: readonly Projection[] = [
  {
    name: CATALOG_PROJECTOR,
    schema: CATALOG_SCHEMA,
    version: 1,
    projector: (schema) => catalogProjector(schema),
  },
  {
    name: ORDERS_PROJECTOR,
    schema: ORDERS_SCHEMA,
    version: 1,
    projector: (schema) => ordersProjector(schema),
  },
  { name: SALES_PROJECTOR, schema: SALES_SCHEMA, version: 1, projector: (schema) => salesProjector(schema) },
];
