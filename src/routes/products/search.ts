/**
 * Turns free text into an FTS5 query that can only ever mean "these words".
 *
 * User text never reaches FTS5 as syntax: it is split into runs of letters, digits and
 * combining marks (the same boundaries the unicode61 tokenizer uses), and each run is
 * emitted as a double-quoted string, so `OR`, `NEAR(`, `*`, `"`, `:` and `^` are plain text
 * or separators. Terms are ANDed; the last one is a prefix (`chai` finds `Chair`) because a
 * shopper is usually still typing it.
 */
const TERM = /[\p{L}\p{N}\p{M}]+/gu;
export const MAX_SEARCH_TERMS = 16;
const MAX_TERM_LENGTH = 64;

export function toFtsQuery(text: string): string | null {
  const terms = (text.normalize('NFKC').toLowerCase().match(TERM) ?? [])
    .slice(0, MAX_SEARCH_TERMS)
    .map((term) => term.slice(0, MAX_TERM_LENGTH));
  if (terms.length === 0) return null;
  return terms.map((term, i) => `"${term}"${i === terms.length - 1 ? '*' : ''}`).join(' ');
}

/**
 * bm25 column weights, in the FTS table's column order (name, category, description,
 * features): a word in the name counts ten times one in the description.
 */
export const SEARCH_WEIGHTS = [10, 4, 1, 2] as const;
