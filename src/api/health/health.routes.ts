import { Router } from 'express';
import type { Logger } from 'pino';

/**
 * A part the shop cannot serve without: `check` rejects while it is unavailable, and may resolve
 * with a detail that an operator should see though the shop still serves (events parked).
 */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void | { degraded: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

type CheckResult = readonly [name: string, status: 'up' | 'down' | 'degraded', detail?: string];

export function healthRoutes(checks: readonly ReadinessCheck[], logger: Logger): Router {
  const router = Router();
  router.get('/health/live', (_request, response) => {
    response.json({ status: 'up' });
  });
  router.get('/health/ready', async (_request, response) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }): Promise<CheckResult> => {
        try {
          const outcome = await withTimeout(check(), CHECK_TIMEOUT_MS);
          return outcome ? [name, 'degraded', outcome.degraded] : [name, 'up'];
        } catch (error) {
          logger.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'down'];
        }
      }),
    );
    const ready = results.every(([, status]) => status !== 'down');
    if (!ready) response.status(503).set('Retry-After', '5');
    const details = results
      .filter(([, status]) => status === 'degraded')
      .map(([name, , detail]): [string, string | undefined] => [name, detail]);
    response.json({
      status: ready ? 'up' : 'down',
      checks: Object.fromEntries(results.map(([name, status]) => [name, status])),
      ...(details.length > 0 ? { details: Object.fromEntries(details) } : {}),
    });
  });
  return router;
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
