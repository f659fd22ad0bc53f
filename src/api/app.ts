import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { readConsistency, type ReadConsistencyOptions } from './consistency.js';
import { type RateLimitOptions, rateLimits } from './rateLimit.js';
import { healthRoutes, type ReadinessCheck } from './health/health.routes.js';
import { jsonBodies, requestIds, withoutRevalidation } from './http.js';
import { HttpProblem, problemHandler } from './problemDetails.js';
import { noStore, PERSONAL_DATA_PATHS } from './privacy.js';

export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

export interface AppDependencies {
  logger: Logger;
  readinessChecks: readonly ReadinessCheck[];
  metrics: MetricsEndpoint;
  /** The API's own routes, each already carrying the authentication it needs. */
  routers?: readonly Router[];
  /** Whether an error means a dependency cannot be reached (503 with Retry-After), not a bug. */
  isDependencyDown?: (error: unknown) => boolean;
  /** `X-Min-Position` and `X-Projection-Position` on the API's GETs. */
  consistency?: ReadConsistencyOptions;
  /** The API's requests a client may send a minute (429 beyond). */
  rateLimit?: RateLimitOptions;
}

export function createApp({
  logger,
  readinessChecks,
  metrics,
  routers = [],
  isDependencyDown = () => false,
  consistency,
  rateLimit,
}: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // An ETag here is an aggregate's revision, set by the route; express's own hash of a body is not one.
  app.set('etag', false);
  app.use(helmet());
  app.use(PERSONAL_DATA_PATHS, noStore());
  app.use(requestIds());
  app.use(withoutRevalidation());
  app.use(healthRoutes(readinessChecks, logger));
  app.get('/metrics', async (_request, response) => {
    response.type(metrics.contentType).send(await metrics.render());
  });
  if (rateLimit) app.use('/api/v1', rateLimits(rateLimit));
  app.use(jsonBodies());
  if (consistency) app.use('/api/v1', readConsistency(consistency));
  for (const router of routers) app.use(router);
  app.use((request, _response, next) => {
    next(new HttpProblem(404, 'Not Found', `no resource at ${request.method} ${request.path}`));
  });
  app.use(problemHandler(logger, isDependencyDown));
  return app;
}
