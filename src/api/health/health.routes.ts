import { Router } from 'express';
import type { Logger } from 'pino';

/** A dependency the shop cannot serve without; `check` rejects while it is unavailable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

export function healthRoutes(checks: readonly ReadinessCheck[], logger: Logger): Router {
  const router = Router();
  router.get('/health/live', (_request, response) => {
    response.json({ status: 'up' });
  });
  router.get('/health/ready', async (_request, response) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, 'up'] as const;
        } catch (error) {
          logger.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'down'] as const;
        }
      }),
    );
    const ready = results.every(([, status]) => status === 'up');
    if (!ready) response.status(503).set('Retry-After', '5');
    response.json({ status: ready ? 'up' : 'down', checks: Object.fromEntries(results) });
  });
  return router;
}

async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
