/**
 * `load`, called at most once per `maxAgeMs`: callers within that time share
 * its last answer (or the call under way). A failed call is not kept, so the
 * next caller tries again.
 */
export function cachedFor<T>(maxAgeMs: number, load: () => Promise<T>): () => Promise<T> {
  let last: { value: Promise<T>; at: number } | undefined;
  return () => {
    const now = performance.now();
    if (last && now - last.at < maxAgeMs) return last.value;
    const entry = { value: load(), at: now };
    last = entry;
    entry.value.catch(() => {
      if (last === entry) last = undefined;
    });
    return entry.value;
  };
}
