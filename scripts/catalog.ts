// Deterministic demo catalog generated with @faker-js/faker: the same seed always gives the
// same products, so demos, screenshots and benchmarks are repeatable.
import { Faker, en } from '@faker-js/faker';

export const DEMO_PRODUCT_COUNT = 300;
const SEED = 2026;
const REFERENCE_DATE = '2026-11-01T00:00:00.000Z';

/** What each category sells: names read like a shop's, so search demos make sense. */
const CATALOG = {
  Automotive: ['Floor Mats', 'Seat Covers', 'Dash Camera', 'Tire Inflator', 'Car Charger', 'Jump Starter'],
  Beauty: ['Face Serum', 'Lip Balm', 'Hair Dryer', 'Makeup Brush Set', 'Night Cream', 'Nail Kit'],
  Books: ['Cookbook', 'Travel Guide', 'Notebook', 'Sketchbook', 'Novel', 'Field Guide'],
  Clothing: ['Jacket', 'Sweater', 'T-Shirt', 'Scarf', 'Hoodie', 'Raincoat'],
  Electronics: ['Headphones', 'Bluetooth Speaker', 'Keyboard', 'Webcam', 'Power Bank', 'Smartwatch'],
  Furniture: ['Chair', 'Desk', 'Bookshelf', 'Sofa', 'Coffee Table', 'Bar Stool'],
  Garden: ['Planter', 'Garden Hose', 'Pruning Shears', 'Bird Feeder', 'Watering Can', 'Trowel'],
  Grocery: ['Olive Oil', 'Coffee Beans', 'Green Tea', 'Honey', 'Dark Chocolate', 'Pasta'],
  Health: ['Yoga Mat', 'Water Bottle', 'First Aid Kit', 'Massage Ball', 'Vitamin Organizer', 'Thermometer'],
  Home: ['Throw Blanket', 'Table Lamp', 'Candle', 'Wall Clock', 'Cushion', 'Picture Frame'],
  Jewelry: ['Necklace', 'Ring', 'Bracelet', 'Earrings', 'Watch', 'Pendant'],
  Kitchen: ['Chef Knife', 'Cutting Board', 'Frying Pan', 'Teapot', 'Mixing Bowl', 'Chair Cushion'],
  Outdoors: ['Tent', 'Sleeping Bag', 'Backpack', 'Camping Chair', 'Headlamp', 'Hammock'],
  Sports: ['Football', 'Tennis Racket', 'Dumbbells', 'Running Shoes', 'Jump Rope', 'Cycling Gloves'],
  Toys: ['Puzzle', 'Building Blocks', 'Plush Bear', 'Kite', 'Board Game', 'Toy Train'],
} as const;

export const CATEGORIES = Object.keys(CATALOG) as (keyof typeof CATALOG)[];

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

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
    const noun = faker.helpers.arrayElement(CATALOG[category]);
    const adjective = faker.commerce.productAdjective();
    const color = faker.color.human();
    const features = faker.helpers.uniqueArray(
      [material.toLowerCase(), `${color} finish`, `${faker.commerce.productAdjective().toLowerCase()} design`, `${faker.number.int({ min: 1, max: 5 })}-year warranty`, faker.commerce.productAdjective().toLowerCase()],
      faker.number.int({ min: 2, max: 4 }),
    );
    // About one in five has no description yet: material for the AI description feature.
    const described = faker.number.int({ min: 1, max: 5 }) > 1;
    out.push({
      name: `${adjective} ${material} ${noun}`,
      category,
      priceCents: faker.number.int({ min: 99, max: 99_999 }),
      description: described
        ? `${article(adjective)} ${adjective.toLowerCase()} ${noun.toLowerCase()} in ${material.toLowerCase()} with ${article(color)} ${color} finish. ${faker.company.catchPhrase()}.`.replace(/^a/, 'A')
        : '',
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
