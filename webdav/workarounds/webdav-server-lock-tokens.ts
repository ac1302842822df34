/**
 * Workaround: webdav-server 2.6 decides whether a LOCK blocks a write by comparing users, not lock tokens.
 *
 * Upstream: its `isLocked` lets the lock's owner write without submitting the lock's token, against RFC 4918
 * §6.4 (a write to a locked resource must submit the token in If). Here every lock is its owner's, so tokens
 * are the only thing that keeps one of a person's clients from overwriting another's work. No upstream issue
 * filed; what would be filed: "FileSystem.isLocked ignores submitted lock tokens and exempts the lock's user",
 * with a LOCK then a PUT by the same user without If answered 201 instead of 423.
 *
 * What this does: webdav/server.ts records the tokens a request submitted (its If header, checked by
 * webdav-server-if-header.ts, and UNLOCK's Lock-Token) in `submittedLockTokens`; LongrunFileSystem.isLocked asks
 * `isLockedWithoutSubmittedToken`.
 *
 * Delete when: webdav-server checks tokens itself. webdav/webdav.integration.test.ts ("a LOCK keeps writes
 * without its token out") and litmus's locks group (webdav/litmus.integration.test.ts) must still pass without
 * the override.
 */
import type { IncomingMessage } from "node:http";
import { v2 as webdav } from "webdav-server";

/** The lock tokens each request submitted (set by webdav/server.ts, which checks the If header). */
export const submittedLockTokens = new WeakMap<IncomingMessage, string[]>();

/**
 * Whether a request may not change a path because of a LOCK: a lock that covers it (`coveringLocks`) whose
 * token the request did not submit. `locksAt` gives the lock manager of a person's path.
 */
export function isLockedWithoutSubmittedToken(
  ctx: webdav.RequestContext,
  path: webdav.Path | string,
  locksAt: (ownerId: string, path: string) => webdav.ILockManager,
): boolean {
  const uid = ctx.user?.uid;
  if (!uid) return false;
  const submitted = ctx instanceof webdav.HTTPRequestContext ? (submittedLockTokens.get(ctx.request) ?? []) : [];
  const relevant = coveringLocks(new webdav.Path(path).paths, (key) => locksAt(uid, key));
  return relevant.length > 0 && !relevant.some((lock) => submitted.includes(lock.uuid));
}

/** The locks on a path, or on a folder above it deep enough to cover it. `locksAt` gives a path's lock manager. */
export function coveringLocks(segments: string[], locksAt: (path: string) => webdav.ILockManager): webdav.Lock[] {
  const covering: webdav.Lock[] = [];
  for (let length = 0; length <= segments.length; length++) {
    const distance = segments.length - length;
    // Our lock managers (LongrunFileSystem's OwnerLocks) answer synchronously.
    locksAt(`/${segments.slice(0, length).join("/")}`).getLocks((_error, locks) => {
      for (const lock of locks ?? []) if (distance === 0 || lock.depth === -1 || lock.depth >= distance) covering.push(lock);
    });
  }
  return covering;
}
