/**
 * Workarounds: what webdav-server 2.6's file-system interface does not give a FileSystem, reached around it.
 * No upstream issue filed for either; each says what would be filed and how to tell it can go.
 */
import { v2 as webdav } from "webdav-server";

/**
 * Status codes: webdav-server maps a file system's errors to statuses by identity, through a static table
 * (HTTPRequestContext.defaultErrorStatusCodes) that its types do not expose, and it has no 413. Would file:
 * "let a FileSystem's errors carry their status (e.g. 413)". Delete when it can; test:
 * webdav/webdav.integration.test.ts ("refuses a file over the size limit", a 413).
 */
export function mapErrorToStatus(error: Error, code: number) {
  (webdav.HTTPRequestContext as unknown as { defaultErrorStatusCodes: { error: Error; code: number }[] }).defaultErrorStatusCodes.push({
    error,
    code,
  });
}

/**
 * COPY's Depth: webdav-server does not pass the request's Depth header on to `_copy` (its `info.depth` is not
 * the header's), so "Depth: 0" copied a folder with its members. Would file: "COPY ignores Depth: 0". Delete
 * when `info.depth` carries the header; test: litmus's copymove group (webdav/litmus.integration.test.ts).
 * Returns -1 for infinity, or `fallback` when the request has no Depth header.
 */
export function copyDepthOf(ctx: webdav.RequestContext, fallback: number): number {
  return (ctx instanceof webdav.HTTPRequestContext ? ctx.headers.depth : undefined) ?? fallback;
}
