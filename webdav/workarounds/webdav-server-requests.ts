/**
 * Workarounds: requests webdav-server 2.6 mishandles, answered or rewritten by our front (webdav/server.ts) before
 * it sees them. No upstream issue filed for any of these (none found in OpenMarshal/npm-WebDAV-Server; its
 * open PR #112, "fix crash when invalid request sent to the server", is about a different crash); each says what
 * would be filed. Delete each when webdav-server behaves, checked by the test named with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { v2 as webdav } from "webdav-server";

/**
 * POST: webdav-server takes it for a PUT, and lists it in every Allow header. WebDAV clients write with PUT, so
 * POST is a 405 (answered by our front) and webdav-server loses its POST command, which keeps it out of Allow.
 * Would file: "POST is handled as PUT". Test: webdav/webdav.integration.test.ts ("answers POST with 405",
 * "lists in Allow only the methods it answers").
 */
export function isPostTakenForPut(request: IncomingMessage): boolean {
  return request.method === "POST";
}

export function withoutPostCommand(dav: webdav.WebDAVServer) {
  delete dav.methods.post;
}

export const ALLOWED_METHODS = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK";

/**
 * CORS: webdav-server allows every origin on every response (Access-Control-Allow-Origin: *). Browsers are not
 * WebDAV clients; a page on another site has no business reading people's files. Would file: "CORS headers
 * sent unconditionally; make them an option". Test: webdav/webdav.integration.test.ts ("sends no CORS headers").
 */
export function withoutCorsHeaders(response: ServerResponse) {
  const setHeader = response.setHeader.bind(response);
  response.setHeader = (name, value) => (name.toLowerCase().startsWith("access-control-") ? response : setHeader(name, value));
}

/**
 * COPY or MOVE onto or into the source itself: webdav-server answers 502 Bad Gateway; RFC 4918 allows 403.
 * Would file: "COPY/MOVE into itself answers 502". Test: webdav/fuzz.integration.test.ts (never a 5xx).
 */
export function isCopyOrMoveIntoItself(request: IncomingMessage, source: string[], destination: string[]): boolean {
  const isIntoItself = source.every((segment, index) => destination[index] === segment);
  return (request.method === "COPY" || request.method === "MOVE") && isIntoItself;
}

/**
 * Destination: webdav-server reads it its own way (a host starts at any "://", a query is part of the path, and a
 * malformed escape there throws out of its callbacks, ending the process). It gets the path we checked instead.
 * Would file: "a malformed percent-escape in Destination throws a URIError outside any handler".
 * Tests: webdav/webdav.integration.test.ts ("refuses '..' … in Destination"), webdav/fuzz.integration.test.ts.
 */
export function useCheckedDestination(request: IncomingMessage, destination: string[]) {
  request.headers.destination = `/${destination.map(encodeURIComponent).join("/")}`;
}
