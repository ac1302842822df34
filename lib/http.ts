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

/**
 * On every response with stored bytes (renders, thumbnails, uploads): no sniffing
 * into another type, and should a browser open one as a document anyway, it is
 * sandboxed (no scripts, no origin) and may load nothing.
 */
export const FILE_RESPONSE_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "sandbox; default-src 'none'",
} as const;

const SAFE_INLINE_IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/gif", "image/avif"]);
/** Raster image types that may be shown inline; SVG (scriptable) is not one of them. */
export const isSafeInlineImageType = (contentType: string) => SAFE_INLINE_IMAGE_TYPES.has(contentType.split(";")[0].trim().toLowerCase());
