import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CheckoutMetrics } from '../commands/checkout/checkoutSaga.js';
import type { DeadlineMetrics } from '../commands/checkout/deadlineWorker.js';
import type { DeadlineCounts } from '../commands/checkout/checkoutTables.js';
import type { EventStore } from '../eventstore/eventStore.js';
import type { MetricsEndpoint } from '../api/app.js';
import { type ConsumerLag, LAG_COUNT_LIMIT } from '../projections/subscriptionRunner.js';

/** A consumer of the event stream as metrics see it. */
export interface MeasuredConsumer {
  name: string;
  lag(): Promise<ConsumerLag>;
  parkedCount(): Promise<number>;
}

/** What the checkout counts as it goes, registered with the shop's other metrics. */
export function checkoutMetrics(registry: Registry): {
  checkout: CheckoutMetrics;
  deadlines: DeadlineMetrics;
} {
  const outcomes = new Counter({
    name: 'checkouts_total',
    help: 'Checkouts that reached an outcome, by outcome and cancellation reason',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'checkout_duration_seconds',
    help: 'Time from placing an order to its outcome (confirmed or cancelled)',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    registers: [registry],
  });
  const lateness = new Histogram({
    name: 'checkout_deadline_lateness_seconds',
    help: 'How long after it was due a checkout deadline was fired',
    labelNames: ['kind'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300],
    registers: [registry],
  });
  return {
    checkout: {
      outcome: (outcome, reason, seconds) => {
        outcomes.inc({ outcome, reason: reason ?? '' });
        durations.observe({ outcome }, seconds);
      },
    },
    deadlines: { fired: (kind, lateSeconds) => lateness.observe({ kind }, lateSeconds) },
  };
}

export function createMetrics(
  registry: Registry,
  eventStore: EventStore,
  consumers: readonly MeasuredConsumer[],
  deadlineCounts: () => Promise<DeadlineCounts>,
): MetricsEndpoint {
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'checkout_deadlines',
    help: 'Checkout deadlines recorded and not fired yet, pending or parked after failing',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await deadlineCounts().catch(() => undefined);
      if (!counts) return;
      this.set({ state: 'pending' }, counts.pending);
      this.set({ state: 'parked' }, counts.parked);
    },
  });
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
