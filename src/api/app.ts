import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { healthRoutes, type ReadinessCheck } from './health/health.routes.js';

export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

export interface AppDependencies {
  logger: Logger;
  readinessChecks: readonly ReadinessCheck[];
  metrics: MetricsEndpoint;
}

export function createApp({ logger, readinessChecks, metrics }: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use(healthRoutes(readinessChecks, logger));
  app.get('/metrics', async (_request, response) => {
    response.type(metrics.contentType).send(await metrics.render());
  });
  return app;
}
