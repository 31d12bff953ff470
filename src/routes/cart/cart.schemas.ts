import { z } from '@hono/zod-openapi';
import { MAX_LINE_QUANTITY } from '../../durable/cart.types.ts';
import { MoneySchema } from '../../lib/money.ts';
import { idParam } from '../../lib/params.ts';

const quantity = z
  .number()
  .int('Must be a whole number.')
  .min(1)
  .max(MAX_LINE_QUANTITY)
  .openapi({ example: 2, description: `1 to ${MAX_LINE_QUANTITY} per line.` });

export const CartLineSchema = z
  .object({
    id: z.number().int().positive().openapi({ example: 3, description: 'The line id within this cart.' }),
    product_id: z.number().int().positive().openapi({ example: 42 }),
    name: z.string().openapi({ example: 'Ergonomic Oak Chair' }),
    unit_price: MoneySchema,
    quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY).openapi({ example: 2 }),
    line_total: MoneySchema,
    available: z.number().int().min(0).openapi({ example: 12, description: 'Units in stock now.' }),
    insufficient_stock: z.boolean().openapi({ description: 'True when `quantity` is more than `available`: checkout would refuse this line.' }),
  })
  .openapi('CartLine');

export const RemovedLineSchema = z
  .object({
    product_id: z.number().int().positive().openapi({ example: 17 }),
    name: z.string().openapi({ example: 'Discontinued Lamp' }),
  })
  .openapi('RemovedCartLine');

export const CartSchema = z
  .object({
    items: z.array(CartLineSchema),
    item_count: z.number().int().min(0).openapi({ example: 3, description: 'Units in the cart (the sum of quantities).' }),
    subtotal: MoneySchema,
    currency: z.string().openapi({ example: 'USD' }),
    removed: z.array(RemovedLineSchema).openapi({
      description: 'Lines dropped from the cart by this read because their product left the catalog. Reported once.',
    }),
  })
  .openapi('Cart');

export const AddCartItemSchema = z
  .object({
    product_id: z.number().int('Must be a whole number.').positive().openapi({ example: 42 }),
    quantity,
  })
  .openapi('CartItemAdd');

export const UpdateCartItemSchema = z.object({ quantity }).openapi('CartItemUpdate');

export const CartItemParamsSchema = z.object({ item_id: idParam('item_id', 3) });

export type CartLineBody = z.infer<typeof CartLineSchema>;
export type CartBody = z.infer<typeof CartSchema>;
