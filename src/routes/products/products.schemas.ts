import { z } from '@hono/zod-openapi';
import { DESCRIPTION_SOURCES, DESCRIPTION_STATUSES, type ProductRow } from '../../db/schema.ts';
import { formatCents, MoneySchema, moneyInput } from '../../lib/money.ts';
import { pageSchema, PageQuerySchema } from '../../lib/pagination.ts';

export const ProductSchema = z
  .object({
    id: z.number().int().positive().openapi({ example: 42 }),
    name: z.string().openapi({ example: 'Ergonomic Oak Chair' }),
    category: z.string().openapi({ example: 'Furniture' }),
    price: MoneySchema,
    description: z.string().openapi({ example: 'A solid oak chair with a contoured seat.' }),
    stock: z.number().int().min(0).openapi({ example: 12 }),
    features: z.array(z.string()).openapi({ example: ['solid oak', 'contoured seat'] }),
    description_status: z.enum(DESCRIPTION_STATUSES).openapi({ description: '`queued` while an AI description is being generated.' }),
    description_source: z
      .enum(DESCRIPTION_SOURCES)
      .nullable()
      .openapi({ description: 'Who wrote the description: `manual`, `gemini`, or `fallback` (the offline generator); null when there is none.' }),
    description_model: z
      .string()
      .nullable()
      .openapi({ example: 'gemini-2.5-flash', description: 'The model that generated the description (`offline-fallback` for the offline generator); null when written by hand.' }),
    description_generated_at: z.string().nullable().openapi({ example: '2026-11-23T10:00:05.000Z', description: 'When the description was generated; null when written by hand.' }),
    description_error: z
      .string()
      .nullable()
      .openapi({ example: null, description: 'Why the last generation failed, when `description_status` is `failed`; the previous description is kept.' }),
    created_at: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
    updated_at: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
  })
  .openapi('Product');

export type Product = z.infer<typeof ProductSchema>;

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    price: formatCents(row.priceCents),
    description: row.description,
    stock: row.stock,
    features: row.features,
    description_status: row.descriptionStatus,
    description_source: row.descriptionSource,
    description_model: row.descriptionModel,
    description_generated_at: row.descriptionGeneratedAt,
    description_error: row.descriptionError,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export const MAX_FEATURES = 30;

/** Field rules shared by the write schemas (and by the description job's feature override). */
export const productFields = {
  name: z.string().trim().min(1, 'Required.').max(200).openapi({ example: 'Ergonomic Oak Chair' }),
  category: z.string().trim().min(1, 'Required.').max(100).openapi({ example: 'Furniture' }),
  price: moneyInput('Unit price'),
  stock: z.number().int('Must be a whole number.').min(0).max(1_000_000).openapi({ example: 12 }),
  description: z.string().trim().max(10_000).openapi({ example: 'A solid oak chair with a contoured seat.' }),
  features: z
    .array(z.string().trim().min(1).max(200))
    .max(MAX_FEATURES)
    .openapi({ example: ['solid oak', 'contoured seat'], description: `Up to ${MAX_FEATURES} short phrases.` }),
};

/** POST and PUT: every field; `description` and `features` default to empty. */
export const ProductWriteSchema = z
  .object({
    name: productFields.name,
    category: productFields.category,
    price: productFields.price,
    stock: productFields.stock,
    description: productFields.description.optional(),
    features: productFields.features.optional(),
  })
  .openapi('ProductWrite');

/** PATCH: any subset. */
export const ProductPatchSchema = z
  .object({
    name: productFields.name.optional(),
    category: productFields.category.optional(),
    price: productFields.price.optional(),
    stock: productFields.stock.optional(),
    description: productFields.description.optional(),
    features: productFields.features.optional(),
  })
  .openapi('ProductPatch');

export type ProductWrite = z.output<typeof ProductWriteSchema>;
export type ProductPatch = z.output<typeof ProductPatchSchema>;

export const ORDERINGS = ['price', '-price', 'name', '-name', 'created_at', '-created_at'] as const;

const optionalMoneyQuery = (name: string) =>
  moneyInput(name)
    .optional()
    .openapi({ param: { name, in: 'query' }, type: 'string', example: name === 'min_price' ? '10.00' : '99.99' });

export const ProductListQuerySchema = PageQuerySchema.extend({
  category: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: 'category', in: 'query', description: 'Exact category, case-insensitive.' }, example: 'Furniture' }),
  min_price: optionalMoneyQuery('min_price'),
  max_price: optionalMoneyQuery('max_price'),
  in_stock: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ param: { name: 'in_stock', in: 'query', description: '`true`: only products with stock; `false`: only sold-out ones.' } }),
  ordering: z
    .enum(ORDERINGS)
    .optional()
    .openapi({ param: { name: 'ordering', in: 'query', description: 'Sort key; `-` for descending. Default: newest first.' } }),
}).superRefine((q, ctx) => {
  if (q.min_price !== undefined && q.max_price !== undefined && q.min_price > q.max_price) {
    ctx.addIssue({ code: 'custom', path: ['min_price'], message: 'Must not be greater than max_price.' });
  }
});

export const MAX_QUERY_LENGTH = 2000;

export const ProductSearchQuerySchema = PageQuerySchema.extend({
  q: z
    .string()
    .max(MAX_QUERY_LENGTH)
    .optional()
    .openapi({
      param: {
        name: 'q',
        in: 'query',
        description:
          'Words to find in name, category, description and features (all must match; the last may be a prefix). ' +
          'Case- and accent-insensitive. Punctuation and search operators are treated as plain text.',
      },
      example: 'oak chai',
    }),
  category: ProductListQuerySchema.shape.category,
});

export const ProductPageSchema = pageSchema(ProductSchema, 'ProductPage');
