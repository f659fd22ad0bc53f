import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EventStore } from '../eventstore/eventStore.js';
import type { MetricsEndpoint } from '../api/app.js';
import { type ConsumerLag, LAG_COUNT_LIMIT } from '../projections/subscriptionRunner.js';

/** A consumer of the event stream as metrics see it. */
export interface MeasuredConsumer {
  name: string;
  lag(): Promise<ConsumerLag>;
  parkedCount(): Promise<number>;
}

export function createMetrics(
  eventStore: EventStore,
  consumers: readonly MeasuredConsumer[],
): MetricsEndpoint {
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
  const lags = new Map<string, Promise<ConsumerLag>>();
  // One scrape reads each consumer's lag once, for both gauges that show it.
  const lagOf = (consumer: MeasuredConsumer): Promise<ConsumerLag> => {
    let lag = lags.get(consumer.name);
    if (!lag) {
      lag = consumer.lag().finally(() => lags.delete(consumer.name));
      lags.set(consumer.name, lag);
    }
    return lag;
  };
  const perConsumer: {
    name: string;
    help: string;
    value: (consumer: MeasuredConsumer) => Promise<number>;
  }[] = [
    {
      name: 'consumer_events_behind',
      help: `Events of its category after a consumer's checkpoint (counted up to ${LAG_COUNT_LIMIT})`,
      value: async (consumer) => (await lagOf(consumer)).eventsBehind,
    },
    {
      name: 'consumer_seconds_behind',
      help: 'How long ago the oldest event a consumer has still to handle was recorded (0 when none waits)',
      value: async (consumer) => (await lagOf(consumer)).secondsBehind,
    },
    {
      name: 'consumer_parked_events',
      help: 'Events a consumer has parked: it could not handle them, or an earlier event of their stream',
      value: (consumer) => consumer.parkedCount(),
    },
  ];
  for (const { name, help, value } of perConsumer) {
    new Gauge({
      name,
      help,
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        for (const consumer of consumers) {
          // A consumer whose figures cannot be read now is left out of this scrape, not the rest.
          const measured = await value(consumer).catch(() => undefined);
          if (measured === undefined) this.remove({ consumer: consumer.name });
          else this.set({ consumer: consumer.name }, measured);
        }
      },
    });
  }
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
