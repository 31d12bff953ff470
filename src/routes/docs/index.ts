import { secureHeaders } from 'hono/secure-headers';
import type { App } from '../../env.ts';
import { DOCUMENT_SECURITY_HEADERS } from '../../lib/security-headers.ts';
import { registerOpenApi } from './openapi.ts';

/**
 * Swagger UI from `swagger-ui-dist`, copied into the worker's static assets by
 * `scripts/assets.ts`: the page loads nothing from a third-party CDN. The inline bootstrap
 * runs under a per-response CSP nonce.
 */
function docsPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeshop API docs</title>
<link rel="icon" type="image/png" sizes="32x32" href="/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger-ui/swagger-ui-bundle.js"></script>
<script nonce="${nonce}">
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // The bearer token survives a reload; "Try it out" calls this same worker (servers: "/").
  persistAuthorization: true,
  deepLinking: true,
  displayRequestDuration: true,
  tryItOutEnabled: false,
});
</script>
</body>
</html>`;
}

export function registerDocsRoutes(app: App): void {
  registerOpenApi(app);
  // An HTML page: it gets the document-only security headers too (src/app.ts).
  app.get('/docs', secureHeaders(DOCUMENT_SECURITY_HEADERS), (c) => {
    const nonce = crypto.randomUUID().replaceAll('-', '');
    c.header(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'`,
    );
    return c.html(docsPage(nonce));
  });
  // Static assets are served before the worker in production; this route makes the same
  // files reachable when the worker is called directly (tests, `exports.default.fetch`).
  app.get('/swagger-ui/*', (c) => c.env.ASSETS.fetch(c.req.raw));
  // Browsers ask for /favicon.ico whatever the page links: answer with Swagger UI's icon
  // rather than a 404 in the console.
  app.get('/favicon.ico', (c) => c.env.ASSETS.fetch(new Request(new URL('/swagger-ui/favicon-32x32.png', c.req.url))));
}
