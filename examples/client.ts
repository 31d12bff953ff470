// A typed client for edgeshop, generated from openapi.json: `npm run client:types` writes
// examples/api.d.ts with openapi-typescript, and openapi-fetch turns it into typed calls
// (paths, parameters, bodies and responses are all checked by the compiler).
// Against a running API (npm run dev or npm start):  npm run example:client
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api.d.ts';

const baseUrl = process.env['EDGESHOP_URL'] ?? 'http://127.0.0.1:8787';
const api = createClient<paths>({ baseUrl });

/** Fails loudly with the problem document the API sent. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) throw new Error(`${what}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

// 1. An account of our own, then a token pair.
const username = `client_${Date.now().toString(36)}`;
const password = 'example client password';
ok(await api.POST('/auth/register/', { body: { username, email: `${username}@example.com`, password } }), 'register');
const tokens = ok(await api.POST('/auth/login/', { body: { username, password } }), 'login');
const bearer: Middleware = {
  onRequest({ request }) {
    request.headers.set('Authorization', `Bearer ${tokens.access}`);
    return request;
  },
};
api.use(bearer);

// 2. Search the catalog; take the best match that is in stock.
const found = ok(await api.GET('/products/search/', { params: { query: { q: 'chair', page_size: 10 } } }), 'search');
const product = found.results.find((p) => p.stock > 0);
if (!product) throw new Error('no chair in stock');
console.log(`found ${found.count} for "chair"; buying ${product.name} at ${product.price}`);

// 3. Into the cart, then check out. The Idempotency-Key makes a retried checkout safe.
ok(await api.POST('/cart/', { body: { product_id: product.id, quantity: 1 } }), 'add to cart');
const cart = ok(await api.GET('/cart/'), 'cart');
console.log(`cart: ${cart.item_count} item(s), subtotal ${cart.subtotal} ${cart.currency}`);
const order = ok(await api.POST('/orders/', { params: { header: { 'Idempotency-Key': crypto.randomUUID() } } }), 'checkout');
console.log(`order ${order.id}: ${order.status}, total ${order.total}`);

// 4. Pay, then poll until the payment processor (a queue consumer) has decided.
let payment = ok(await api.POST('/payments/', { body: { order_id: order.id, card_number: '4242424242424242' } }), 'pay');
for (let i = 0; i < 50 && payment.status === 'pending'; i++) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  payment = ok(await api.GET('/payments/{id}/', { params: { path: { id: payment.id } } }), 'payment');
}
const paid = ok(await api.GET('/orders/{id}/', { params: { path: { id: order.id } } }), 'order');
console.log(`payment ${payment.id}: ${payment.status}; order ${paid.id}: ${paid.status}`);
if (payment.status !== 'succeeded' || paid.status !== 'paid') process.exit(1);
