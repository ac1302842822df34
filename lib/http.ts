import { createHash } from "node:crypto";

/**
 * A small JSON body with a weak ETag; the browser revalidates it with
 * If-None-Match and a poll that finds nothing new costs a 304 without a body.
 */
export function jsonWithEtag(request: Request, body: unknown) {
  const json = JSON.stringify(body);
  const etag = `W/"${createHash("sha1").update(json).digest("base64url")}"`;
  const headers = { ETag: etag, "Cache-Control": "private, no-cache", "Content-Type": "application/json" };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(json, { status: 200, headers });
}

/** Content-Disposition for a download: an ASCII fallback and the exact name (RFC 6266 / 5987). */
export function attachmentDisposition(fileName: string) {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  // RFC 5987's attr-char excludes ' ( ) * too, which encodeURIComponent leaves alone.
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
