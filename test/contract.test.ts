import { describe, expect, it } from 'vitest';
import { expectDocumented } from './support/contract.ts';

const problem = { type: 'urn:edgeshop:problem:not-found', title: 'Not found', status: 404, detail: 'No route.', request_id: 'r1' };
const product = {
  id: 1,
  name: 'Chair',
  category: 'Furniture',
  price: '1.00',
  description: '',
  stock: 1,
  features: [],
  description_status: 'none',
  description_source: null,
  description_model: null,
  description_generated_at: null,
  description_error: null,
  created_at: '2026-11-23T10:00:00.000Z',
  updated_at: '2026-11-23T10:00:00.000Z',
};

describe('the contract check itself', () => {
  it('passes a response that matches openapi.json', () => {
    expect(() => expectDocumented('GET', '/products/1/', 200, 'application/json', product)).not.toThrow();
  });

  it('fails a body that does not match the document', () => {
    expect(() => expectDocumented('GET', '/products/1/', 200, 'application/json', { ...product, price: 1 })).toThrow(/does not match openapi.json/);
    expect(() => expectDocumented('GET', '/products/1', 200, 'application/json', { ...product, stock: undefined })).toThrow(/openapi.json/);
  });

  it('fails a field the schema does not document', () => {
    expect(() => expectDocumented('GET', '/products/1/', 200, 'application/json', { ...product, password_hash: 'x' })).toThrow(/undocumented fields/);
  });

  it('fails a status the operation does not document', () => {
    expect(() => expectDocumented('GET', '/health', 418, 'application/problem+json', problem)).toThrow(/does not document/);
  });

  it('fails a success from a path the document does not know, and accepts its 404 problem', () => {
    expect(() => expectDocumented('GET', '/secret-admin', 200, 'application/json', {})).toThrow(/not in openapi.json/);
    expect(() => expectDocumented('GET', '/secret-admin', 404, 'application/problem+json', problem)).not.toThrow();
    expect(() => expectDocumented('PUT', '/health', 405, 'application/problem+json', { ...problem, status: 405 })).not.toThrow();
    expect(() => expectDocumented('GET', '/secret-admin', 404, 'application/problem+json', { detail: 'no type' })).toThrow();
  });

  it('checks the 400 shapes: a validation problem names fields, a malformed-body problem need not', () => {
    const bad = { ...problem, type: 'urn:edgeshop:problem:validation-failed', status: 400 };
    expect(() => expectDocumented('POST', '/cart/', 400, 'application/problem+json', { ...bad, errors: [{ path: 'body.quantity', message: 'x' }] })).not.toThrow();
    expect(() => expectDocumented('POST', '/cart/', 400, 'application/problem+json', bad)).not.toThrow();
    expect(() => expectDocumented('POST', '/cart/', 400, 'application/problem+json', { ...bad, errors: [{ path: 1 }] })).toThrow();
  });
});
