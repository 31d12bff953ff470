import { z } from '@hono/zod-openapi';
import { PAYMENT_STATUSES, type PaymentRow } from '../../db/schema.ts';
import { normalizeCardNumber } from '../../lib/cards.ts';
import { formatCents, MoneySchema } from '../../lib/money.ts';
import { pageSchema, PageQuerySchema } from '../../lib/pagination.ts';
import { idQuery } from '../../lib/params.ts';

export const PaymentSchema = z
  .object({
    id: z.number().int().positive().openapi({ example: 501 }),
    order_id: z.number().int().positive().openapi({ example: 1001 }),
    status: z.enum(PAYMENT_STATUSES).openapi({ description: '`pending` until the processor decides: `succeeded` or `failed`.' }),
    amount: MoneySchema,
    currency: z.string().openapi({ example: 'USD' }),
    failure_reason: z
      .string()
      .nullable()
      .openapi({ example: null, description: '`card_declined`, `order_not_payable`, `processing_failed` or `processing_timeout` when failed; else null.' }),
    card_last4: z.string().nullable().openapi({ example: '4242', description: 'The last four digits of the card; the number itself is never stored or returned.' }),
    created_at: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
    updated_at: z.string().openapi({ example: '2026-11-23T10:00:01.000Z' }),
  })
  .openapi('Payment');

export type Payment = z.infer<typeof PaymentSchema>;

export function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    order_id: row.orderId,
    status: row.status,
    amount: formatCents(row.amountCents),
    currency: row.currency,
    failure_reason: row.failureReason,
    card_last4: row.cardLast4,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export const CreatePaymentSchema = z
  .object({
    order_id: z.number().int('Must be a whole number.').positive().openapi({ example: 1001 }),
    card_number: z
      .string()
      .max(40)
      .transform((value, ctx) => {
        const digits = normalizeCardNumber(value);
        if (digits === null) {
          ctx.addIssue({ code: 'custom', message: 'Not a valid card number: 12 to 19 digits that pass the Luhn check.' });
          return z.NEVER;
        }
        return digits;
      })
      .optional()
      .openapi({
        type: 'string',
        example: '4242424242424242',
        description: 'Optional test card. `4000000000000002` is declined; any other valid number succeeds. Never echoed back.',
      }),
  })
  .openapi('PaymentCreate');

export const PaymentPageSchema = pageSchema(PaymentSchema, 'PaymentPage');

export const PaymentListQuerySchema = PageQuerySchema.extend({
  order_id: idQuery('order_id', 'Only the payments of this order.'),
});
