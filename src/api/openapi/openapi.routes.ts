import { Router } from 'express';
import type { OpenAPIV3_1 } from 'openapi-types';
import swaggerUi from 'swagger-ui-express';

/** `GET /openapi.json`, the description of the API, and `GET /docs`, a page to browse and try it. */
export function openApiRoutes(document: OpenAPIV3_1.Document): Router {
  const router = Router();
  router.get('/openapi.json', (_request, response) => {
    response.json(document);
  });
  // The page loads its scripts and styles by relative paths, which resolve only under `/docs/`.
  router.get('/docs', (request, response, next) => {
    if (request.originalUrl.split('?')[0]?.endsWith('/')) next();
    else response.redirect(301, '/docs/');
  });
  // serveFiles keeps the document per router; `serve` would share it through module state.
  router.use(
    '/docs',
    swaggerUi.serveFiles(document),
    swaggerUi.setup(document, { customSiteTitle: 'Shop API' }),
  );
  return router;
}
