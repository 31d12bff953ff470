import type { App } from '../../env.ts';

export const OPENAPI_DOCUMENT_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'edgeshop API',
    version: '0.1.0',
    description:
      'E-commerce REST API on Cloudflare Workers. Every path answers with and without its trailing slash. ' +
      'Errors are RFC 9457 problem details (`application/problem+json`). Money is a two-place decimal string ' +
      'stored as integer cents. Lists are paginated like Django REST Framework (`page`, `page_size` ≤ 100).',
  },
  tags: [
    { name: 'Health' },
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
  app.doc31('/openapi.json', OPENAPI_DOCUMENT_CONFIG);
}

export function openApiDocument(app: App) {
  return app.getOpenAPI31Document(OPENAPI_DOCUMENT_CONFIG);
}
