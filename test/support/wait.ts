// Waiting in tests: for a condition, or for a step the test releases by hand.

/** Waits, a few milliseconds at a time, until `condition` holds; fails after 5 s. */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 5) {
    if (waited >= 5_000) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise a test settles by hand: the worker's own helper, as the waits it stands in for use it. */
export { deferred } from '../../src/lib/catalog-cache.ts';
