import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EventStore } from '../eventstore/eventStore.js';
import type { MetricsEndpoint } from '../api/app.js';

export function createMetrics(eventStore: EventStore): MetricsEndpoint {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'eventstore_delivery_stall_seconds',
    help: 'How long committed events have waited behind a transaction still open (0 when none wait)',
    registers: [registry],
    collect() {
      this.set(eventStore.deliveryStall().stalledForMs / 1000);
    },
  });
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
