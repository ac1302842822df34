/**
 * Workaround: webdav-server 2.6's LOCK, replaced by ours.
 *
 * Upstream: its LOCK sends `Lock-Token` without the angle brackets RFC 4918 §10.5 requires; writes the lock's
 * scope and type (`<exclusive/>`, `<write/>`) outside the DAV: namespace, so clients read a shared lock as
 * exclusive; ignores the requested `Timeout` (always its server-wide lockTimeout); grants an exclusive lock
 * over a shared one (it compares the new lock's type, not its scope, with Exclusive); and refreshes only a lock
 * held on the very URL of the request, so refreshing a folder's depth-infinity lock through a member (RFC 4918
 * §9.10.2) is a 412. No upstream issue filed (none found in OpenMarshal/npm-WebDAV-Server); what would be
 * filed: one issue per behaviour above, each with litmus's locks test that shows it (lock_shared,
 * notowner_lock, indirect_refresh).
 *
 * What this does: LOCK is registered as our own command. A new lock (RFC 4918 §9.10) is refused with 423 when
 * a lock it would overlap is exclusive, or it is; on an unmapped URL it creates an empty file (201). Its
 * timeout is the first one the client asks for, at most MAX_LOCK_SECONDS (Infinite is that maximum). Each person
 * holds at most MAX_LOCKS_PER_PERSON locks (507 past it), each <owner> at most MAX_LOCK_OWNER_BYTES (413). A refresh
 * (no body) finds the lock named in the If header that covers the request URL, wherever it is held.
 * UNLOCK stays webdav-server's (it is correct).
 *
 * Delete when: webdav-server's LOCK passes, without `replaceLockCommand`, litmus's locks group
 * (webdav/litmus.integration.test.ts) and webdav/webdav.integration.test.ts ("locks").
 */
import { v2 as webdav } from "webdav-server";
import type { HeldLock, LongrunFileSystem } from "../file-system";
import { submittedLockTokens } from "./webdav-server-lock-tokens";
import { activeLock } from "./webdav-server-property-commands";
import { DAV, elementsOf, findElement, isNamed, parseXml, serializeXml } from "../xml";

/** The longest lock granted, in seconds: a client that asks for more (or Infinite) gets this. */
export const MAX_LOCK_SECONDS = 3600;
/**
 * Locks live in this process's memory, so one person's must not grow without bound: clients lock a file while they
 * write it (a few at a time; Finder and Office a handful), so 1,000 is far above use, and past it LOCK is 507.
 */
export const MAX_LOCKS_PER_PERSON = 1_000;
/** A lock's <owner> is kept and sent back in every lockdiscovery: clients put a name or a URL there. Past this, 413. */
export const MAX_LOCK_OWNER_BYTES = 4 * 1024;

export function replaceLockCommand(dav: webdav.WebDAVServer, fileSystem: LongrunFileSystem) {
  dav.method("LOCK", {
    unchunked: (ctx, data, callback) => {
      const answer = data.length > 0 ? createLock(fileSystem, ctx, data) : Promise.resolve(refreshLock(fileSystem, ctx));
      answer.then(
        ({ status, lock }) => {
          ctx.setCode(status);
          if (lock) {
            ctx.response.setHeader("Lock-Token", `<${lock.lock.uuid}>`);
            const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLock(lock.lock, hrefOfSegments(lock.root))}</D:lockdiscovery></D:prop>`;
            ctx.response.setHeader("Content-Type", "application/xml; charset=utf-8");
            ctx.response.setHeader("Content-Length", Buffer.byteLength(body));
            ctx.response.write(body);
          }
          callback();
        },
        (error: Error) => {
          if (!ctx.setCodeFromError(error)) {
            console.error("[webdav] LOCK failed", error);
            ctx.setCode(500);
          }
          callback();
        },
      );
    },
  });
}

type Answer = { status: number; lock?: HeldLock };

async function createLock(fileSystem: LongrunFileSystem, ctx: webdav.HTTPRequestContext, data: Buffer): Promise<Answer> {
  const info = parseLockInfo(data);
  const depth = ctx.headers.depth ?? -1;
  if (!info || (depth !== 0 && depth !== -1)) return { status: 400 };
  if (Buffer.byteLength(info.owner) > MAX_LOCK_OWNER_BYTES) return { status: 413 };
  if (fileSystem.lockCount(ctx) >= MAX_LOCKS_PER_PERSON) return { status: 507 };
  const segments = ctx.requested.path.paths;
  const lock = new webdav.Lock(new webdav.LockKind(info.scope, webdav.LockType.Write, timeoutOf(ctx)), ctx.user.uid, info.owner, depth);
  if (isInConflict(fileSystem, ctx, segments, lock)) return { status: 423 };
  let status = 200;
  if (!(await fileSystem.describe(ctx, ctx.requested.path))) {
    // An unmapped URL: the lock is on a new, empty file (RFC 4918 §9.10.4).
    await new Promise<void>((resolve, reject) =>
      fileSystem.create(ctx, ctx.requested.path, webdav.ResourceType.File, (error) => (error ? reject(error) : resolve())),
    );
    status = 201;
  }
  // Checked again with the lock set at once: another LOCK may have been granted while the file was created.
  if (isInConflict(fileSystem, ctx, segments, lock)) return { status: 423 };
  fileSystem.addLock(ctx, segments, lock);
  return { status, lock: { lock, root: segments } };
}

/** Whether a lock would overlap a lock held on, above or (at depth infinity) below its path, either being exclusive. */
function isInConflict(fileSystem: LongrunFileSystem, ctx: webdav.HTTPRequestContext, segments: string[], lock: webdav.Lock) {
  const isExclusive = (candidate: webdav.Lock) => candidate.lockKind.scope.isSame(webdav.LockScope.Exclusive);
  const overlapping = fileSystem.locksAround(ctx, segments, lock.depth === -1);
  return overlapping.length > 0 && (isExclusive(lock) || overlapping.some((held) => isExclusive(held.lock)));
}

/** A refresh: the lock the If header names that covers the request URL gets a new timeout; 412 when there is none. */
function refreshLock(fileSystem: LongrunFileSystem, ctx: webdav.HTTPRequestContext): Answer {
  const tokens = submittedLockTokens.get(ctx.request) ?? [];
  if (tokens.length === 0) return { status: 400 };
  const held = fileSystem.locksAround(ctx, ctx.requested.path.paths, false).find(({ lock }) => tokens.includes(lock.uuid));
  if (!held) return { status: 412 };
  held.lock.refresh(timeoutOf(ctx));
  return { status: 200, lock: held };
}

/** The first timeout the client asks for (RFC 4918 §10.7), at most MAX_LOCK_SECONDS; that maximum when it asks for none. */
function timeoutOf(ctx: webdav.HTTPRequestContext) {
  const first = (ctx.headers.find("Timeout") ?? "").split(",")[0].trim();
  const seconds = /^Second-(\d+)$/i.exec(first);
  return seconds ? Math.max(1, Math.min(MAX_LOCK_SECONDS, Number(seconds[1]))) : MAX_LOCK_SECONDS;
}

/** <lockinfo>: its scope (exclusive or shared), a write type, and its <owner> kept as XML. */
function parseLockInfo(data: Buffer): { scope: webdav.LockScope; owner: string } | null {
  const root = parseXml(data);
  if (!root || !isNamed(root, DAV, "lockinfo")) return null;
  const scopeElement = findElement(root, DAV, "lockscope");
  const typeElement = findElement(root, DAV, "locktype");
  if (!scopeElement || !typeElement) return null;
  const [scope] = elementsOf(scopeElement);
  const [type] = elementsOf(typeElement);
  if (!scope || !type || !isNamed(type, DAV, "write")) return null;
  if (!isNamed(scope, DAV, "exclusive") && !isNamed(scope, DAV, "shared")) return null;
  const owner = findElement(root, DAV, "owner");
  return {
    scope: scope.name === "exclusive" ? webdav.LockScope.Exclusive : webdav.LockScope.Shared,
    owner: owner ? serializeXml(owner.children) : "",
  };
}

function hrefOfSegments(segments: string[]) {
  return `/${segments.map(encodeURIComponent).join("/")}`;
}
