import { expect } from 'vitest';
import type { Product } from '../../src/routes/products/products.schemas.ts';
import { call } from './api.ts';
import { uniqueName, type TestUser } from './users.ts';

export interface ProductInput {
  name?: string;
  category?: string;
  price?: string | number;
  stock?: number;
  description?: string;
  features?: string[];
}

/** Creates a product through the admin API; each test uses its own category to stay independent. */
export async function createProduct(admin: TestUser, input: ProductInput = {}): Promise<Product> {
  const body = {
    name: input.name ?? uniqueName('Product'),
    category: input.category ?? uniqueName('cat'),
    price: input.price ?? '19.99',
    stock: input.stock ?? 10,
    ...(input.description !== undefined && { description: input.description }),
    ...(input.features !== undefined && { features: input.features }),
  };
  const res = await call<Product>('POST', '/products/', { token: admin.access, body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}
