import { benchCheckout } from './checkout.bench.js';
import { benchConsumers } from './consumers.bench.js';
import { benchEventStore } from './eventstore.bench.js';
import { benchProjections } from './projections.bench.js';

// `npm run bench` runs every bench; `npm run bench -- eventstore` runs the ones named.
const benches: Record<string, () => Promise<void>> = {
  eventstore: benchEventStore,
  consumers: benchConsumers,
  checkout: benchCheckout,
  projections: benchProjections,
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : Object.keys(benches)) await benches[name]?.();
process.exit(0);
