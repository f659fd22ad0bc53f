import type { ReadinessCheck } from '../api/health/health.routes.js';
import type { WorkerHealth } from '../projections/subscriptionRunner.js';

/** Something the shop runs in the background beside the HTTP server: a consumer of the event stream. */
export interface BackgroundWorker {
  name: string;
  start(): void;
  stop(): Promise<void>;
  health(): Promise<WorkerHealth>;
}

/** Each worker feeds readiness: down fails it, degraded is told beside an answer of 200. */
export function readinessOf(worker: BackgroundWorker): ReadinessCheck {
  return {
    name: worker.name,
    check: async () => {
      const health = await worker.health();
      if (health.status === 'down') throw new Error(`${worker.name}: ${health.detail}`);
      return health.status === 'degraded' ? { degraded: health.detail } : undefined;
    },
  };
}

/** Stops workers in the reverse of the order they started in, each even if another fails. */
export async function stopInReverse(workers: readonly BackgroundWorker[]): Promise<void> {
  const failures: unknown[] = [];
  for (const worker of [...workers].reverse())
    await worker.stop().catch((error: unknown) => failures.push(error));
  if (failures.length > 0) throw new AggregateError(failures, 'some background workers did not stop cleanly');
}
