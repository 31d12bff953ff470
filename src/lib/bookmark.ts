/**
 * The header that carries a D1 Sessions API bookmark (src/lib/d1-session.ts): the point in
 * the database's history that a response reflects. Its own module, as the cache, the document
 * and the session middleware all name it.
 */
export const BOOKMARK_HEADER = 'X-D1-Bookmark';
