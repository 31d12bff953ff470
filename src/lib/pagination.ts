import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError } from './errors.ts';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * Django REST Framework's PageNumberPagination: `page` is 1-based; `page_size` above the
 * maximum is capped (as DRF's `max_page_size` does) rather than refused.
 */
export const PageQuerySchema = z.object({
  page: z.coerce
    .number()
    .int()
    .min(1)
    .default(1)
    .openapi({ param: { name: 'page', in: 'query' }, type: 'integer', minimum: 1, default: 1 }),
  page_size: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_PAGE_SIZE)
    .transform((n) => Math.min(n, MAX_PAGE_SIZE))
    .openapi({
      param: { name: 'page_size', in: 'query', description: `Items per page; values above ${MAX_PAGE_SIZE} are capped.` },
      type: 'integer',
      minimum: 1,
      default: DEFAULT_PAGE_SIZE,
    }),
});

export interface PageParams {
  page: number;
  page_size: number;
}

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      count: z.number().int().openapi({ example: 42 }),
      next: z.string().url().nullable().openapi({ example: 'https://api.example.com/products/?page=3' }),
      previous: z.string().url().nullable().openapi({ example: 'https://api.example.com/products/?page=1' }),
      results: z.array(item),
    })
    .openapi(name);
}

export function pageWindow({ page, page_size }: PageParams): { limit: number; offset: number } {
  return { limit: page_size, offset: (page - 1) * page_size };
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** Wraps one page of results; a page past the end is 404 "Invalid page." as in DRF. */
export function toPage<T>(c: Context, params: PageParams, count: number, results: T[]): Page<T> {
  const lastPage = Math.max(1, Math.ceil(count / params.page_size));
  if (params.page > lastPage) throw new ApiError('not_found', `Invalid page: page ${params.page} is past the last page (${lastPage}).`);
  const link = (page: number): string => {
    const url = new URL(c.req.url);
    // DRF drops `page` for the first page so its link equals the bare list URL.
    if (page === 1) url.searchParams.delete('page');
    else url.searchParams.set('page', String(page));
    return url.toString();
  };
  return {
    count,
    next: params.page < lastPage ? link(params.page + 1) : null,
    previous: params.page > 1 ? link(params.page - 1) : null,
    results,
  };
}
