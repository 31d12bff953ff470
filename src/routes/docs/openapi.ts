import type { App } from '../../env.ts';

export const OPENAPI_DOCUMENT_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'edgeshop API',
    version: '0.1.0',
    description: [
      'E-commerce REST API on Cloudflare Workers: catalog with full-text search, accounts with rotating JWT refresh tokens,',
      'a cart per user, atomic checkout, mock card payments decided on a queue, and AI product descriptions.',
      '',
      '- Every path answers with and without its trailing slash (the original Django design ends paths in `/`), without redirects.',
      '- Errors are RFC 9457 problem details (`application/problem+json`); validation errors list every offending field in `errors` (`body.price`, `query.page`, `path.id`).',
      '- A path that is not in this document answers a 404 problem; a documented path with another method answers a 405 problem with `Allow`.',
      '- Money is a decimal string with two places (`"19.99"`), integer cents inside; one currency per deployment.',
      '- Lists are paginated like Django REST Framework: `page`, `page_size` (default 20, at most 100), `{count, next, previous, results}`.',
      '- Authenticate with `Authorization: Bearer <access>` from `POST /auth/login/` (15 minutes; rotate with `POST /auth/refresh/`).',
      "- `POST /orders/` and `POST /payments/` honour `Idempotency-Key`: a retry with the same key and body returns the first response.",
      '- Public catalog reads are cached at the edge (about a second behind a write made elsewhere; never more than `CATALOG_CACHE_TTL_SECONDS`, 300 s by default) with strong `ETag`s and `304`. Every response that used the database carries `X-D1-Bookmark`; send it back to read your own writes from any replica, past the cache.',
      '',
      'The guide in the repository, `docs/api.md`, walks through a purchase.',
    ].join('\n'),
    contact: { name: 'edgeshop maintainers', email: 'api@edgeshop.example' },
    license: { name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' },
  },
  // Relative: "Try it out" and generated clients talk to whichever worker serves this document.
  servers: [{ url: '/', description: 'The worker serving this document' }],
  tags: [
    { name: 'Health', description: 'Liveness and the database check.' },
    { name: 'Auth', description: 'Registration, login and token rotation.' },
    { name: 'Users', description: 'Profiles and roles.' },
    { name: 'Products', description: 'The catalog: browse, filter, search; admins edit.' },
    { name: 'Cart', description: 'Your cart, one per user, priced from the catalog at every read.' },
    { name: 'Orders', description: 'Checkout, order history and cancellation.' },
    { name: 'Payments', description: 'Mock card payments, decided asynchronously by a queue consumer.' },
  ],
};

/** Registers the bearer scheme and serves the generated document at `/openapi.json`. */
export function registerOpenApi(app: App): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The `access` token from `POST /auth/login/`.',
  });
  // Built on the first request, then kept: the routes cannot change while the isolate lives.
  let document: ReturnType<typeof openApiDocument> | undefined;
  app.get('/openapi.json', (c) => c.json((document ??= openApiDocument(app))));
}

export function openApiDocument(app: App) {
  return app.getOpenAPI31Document(OPENAPI_DOCUMENT_CONFIG);
}
