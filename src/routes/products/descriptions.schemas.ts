import { z } from '@hono/zod-openapi';
import { DESCRIPTION_STATUSES, DESCRIPTION_TONES } from '../../db/schema.ts';
import { productFields } from './products.schemas.ts';

export const DEFAULT_MAX_WORDS = 120;

export const GenerateDescriptionSchema = z
  .object({
    features: productFields.features.optional().openapi({
      description: 'Features for this run instead of the stored ones (the product keeps its own).',
      example: ['solid oak', 'contoured seat'],
    }),
    tone: z.enum(DESCRIPTION_TONES).default('neutral').openapi({ description: 'Voice of the text.' }),
    max_words: z.number().int('Must be a whole number.').min(20).max(400).default(DEFAULT_MAX_WORDS).openapi({ example: DEFAULT_MAX_WORDS }),
  })
  .openapi('GenerateDescription');

export const GenerateDescriptionAcceptedSchema = z
  .object({
    product_id: z.number().int().positive().openapi({ example: 42 }),
    description_status: z.enum(DESCRIPTION_STATUSES).openapi({ example: 'queued' }),
  })
  .openapi('DescriptionJobAccepted');
