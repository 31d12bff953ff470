// Deterministic demo catalog generated with @faker-js/faker: the same seed always gives the
// same products, so demos, screenshots and benchmarks are repeatable.
import { Faker, en } from '@faker-js/faker';

export const DEMO_PRODUCT_COUNT = 300;
const SEED = 2026;
const REFERENCE_DATE = '2026-11-01T00:00:00.000Z';

export const CATEGORIES = [
  'Automotive', 'Beauty', 'Books', 'Clothing', 'Electronics', 'Furniture', 'Garden', 'Grocery',
  'Health', 'Home', 'Jewelry', 'Kitchen', 'Outdoors', 'Sports', 'Toys',
] as const;

export interface DemoProduct {
  name: string;
  category: string;
  priceCents: number;
  description: string;
  stock: number;
  features: string[];
  createdAt: string;
}

/** Products number `from` (inclusive) to `to` (exclusive) of the endless deterministic sequence. */
export function demoProducts(from: number, to: number): DemoProduct[] {
  const faker = new Faker({ locale: [en] });
  const out: DemoProduct[] = [];
  for (let i = from; i < to; i++) {
    faker.seed(SEED + i);
    const category = CATEGORIES[i % CATEGORIES.length]!;
    const material = faker.commerce.productMaterial();
    const features = faker.helpers.uniqueArray(
      [material.toLowerCase(), `${faker.color.human()} finish`, `${faker.commerce.productAdjective().toLowerCase()} design`, `${faker.number.int({ min: 1, max: 5 })}-year warranty`, faker.commerce.productAdjective().toLowerCase()],
      faker.number.int({ min: 2, max: 4 }),
    );
    // About one in five has no description yet: material for the AI description feature.
    const described = faker.number.int({ min: 1, max: 5 }) > 1;
    out.push({
      name: faker.commerce.productName(),
      category,
      priceCents: faker.number.int({ min: 99, max: 99_999 }),
      description: described ? faker.commerce.productDescription() : '',
      stock: faker.helpers.weightedArrayElement([
        { weight: 1, value: 0 },
        { weight: 9, value: faker.number.int({ min: 1, max: 250 }) },
      ]),
      features,
      createdAt: faker.date.past({ years: 1, refDate: REFERENCE_DATE }).toISOString(),
    });
  }
  return out;
}
