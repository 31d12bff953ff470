import { describe, expect, it } from 'vitest';
import { DESCRIPTION_TONES } from '../../src/db/schema.ts';
import { fallbackDescription, toPlainText } from '../../src/lib/description-text.ts';
import { retryInfoDelay } from '../../src/lib/gemini.ts';

describe('toPlainText', () => {
  it.each([
    ['<p>Hello <b>world</b></p>', 'Hello world'],
    ['<script>steal()</script>Safe', 'Safe'],
    ['&lt;b&gt;bold&lt;/b&gt; &amp; more', 'bold & more'],
    ['# Title\n\n**Strong** and _soft_ and `code`', 'Title Strong and soft and code'],
    ['- one\n- two\n1. three', 'one two three'],
    ['See [the docs](https://x.test) ![img](y.png)', 'See the docs img'],
    ['```\nblock\n```', 'block'],
    ['  lots   of\n\n whitespace\t ', 'lots of whitespace'],
    ['snake_case_name stays', 'snake_case_name stays'],
  ])('%j becomes %j', (input, output) => {
    expect(toPlainText(input, 100)).toBe(output);
  });

  it('caps words and characters', () => {
    expect(toPlainText('a b c d e', 3)).toBe('a b c…');
    expect(toPlainText('x'.repeat(50), 10, 20)).toHaveLength(20);
  });
});

describe('fallbackDescription', () => {
  it.each(DESCRIPTION_TONES)('in a %s tone names the product, its category and every feature', (tone) => {
    const features = ['recycled aluminium', 'two-year warranty', 'fits 15-inch laptops'];
    const text = fallbackDescription({ name: 'Commuter Pack', category: 'Bags', features, tone, maxWords: 20 });
    expect(text).toContain('Commuter Pack');
    expect(text.toLowerCase()).toContain('bags');
    for (const f of features) expect(text).toContain(f);
    expect(text).not.toMatch(/[<>*#`]/);
  });

  it('reads differently per tone, and well without features', () => {
    const texts = DESCRIPTION_TONES.map((tone) => fallbackDescription({ name: 'Mug', category: 'Kitchen', features: [], tone, maxWords: 60 }));
    expect(new Set(texts).size).toBe(DESCRIPTION_TONES.length);
    for (const t of texts) expect(t).not.toMatch(/ \.|, \.|\.\./);
  });
});

describe('retryInfoDelay', () => {
  it('reads google.rpc.RetryInfo from an error body', () => {
    const body = JSON.stringify({ error: { code: 429, details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure' }, { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17.2s' }] } });
    expect(retryInfoDelay(body)).toBe(18);
    expect(retryInfoDelay('{"error":{"code":429}}')).toBeUndefined();
    expect(retryInfoDelay('not json')).toBeUndefined();
  });
});
