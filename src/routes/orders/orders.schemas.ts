import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES, type OrderItemRow, type OrderRow } from '../../db/schema.ts';
import { formatCents, MoneySchema } from '../../lib/money.ts';
import { pageSchema, PageQuerySchema } from '../../lib/pagination.ts';
import { idQuery } from '../../lib/params.ts';
import { ProblemSchema } from '../../lib/errors.ts';

export const OrderItemSchema = z
  .object({
    product_id: z.number().int().positive().openapi({ example: 42 }),
    name: z.string().openapi({ example: 'Ergonomic Oak Chair', description: 'The name when ordered.' }),
    unit_price: MoneySchema,
    quantity: z.number().int().min(1).max(99).openapi({ example: 2 }),
    line_total: MoneySchema,
  })
  .openapi('OrderItem');

export const OrderSchema = z
  .object({
    id: z.number().int().positive().openapi({ example: 1001 }),
    user_id: z.number().int().positive().openapi({ example: 7 }),
    status: z.enum(ORDER_STATUSES).openapi({ description: '`pending` until paid or cancelled.' }),
    items: z.array(OrderItemSchema),
    total: MoneySchema,
    currency: z.string().openapi({ example: 'USD' }),
    created_at: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
    updated_at: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
  })
  .openapi('Order');

export type Order = z.infer<typeof OrderSchema>;

export function toOrder(row: OrderRow, items: OrderItemRow[]): Order {
  return {
    id: row.id,
    user_id: row.userId,
    status: row.status,
    items: items.map((i) => ({
      product_id: i.productId,
      name: i.name,
      unit_price: formatCents(i.unitPriceCents),
      quantity: i.quantity,
      line_total: formatCents(i.lineTotalCents),
    })),
    total: formatCents(row.totalCents),
    currency: row.currency,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export const OrderPageSchema = pageSchema(OrderSchema, 'OrderPage');

export const OrderListQuerySchema = PageQuerySchema.extend({
  user_id: idQuery('user_id', "Admins: one user's orders. Others see only their own whatever this says."),
  status: z
    .enum(ORDER_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query', description: 'Only orders in this status.' } }),
});

export const ShortLineSchema = z
  .object({
    product_id: z.number().int().positive(),
    name: z.string(),
    requested: z.number().int().positive(),
    available: z.number().int().min(0),
  })
  .openapi('ShortLine');

export const InsufficientStockProblemSchema = ProblemSchema.extend({
  lines: z.array(ShortLineSchema).openapi({ description: 'Every line the stock cannot cover.' }),
}).openapi('InsufficientStockProblem');
