/**
 * The URL paths the WebDAV server accepts, checked before webdav-server sees
 * them. webdav-server decodes "%2F" into a separator and resolves ".."
 * itself; we refuse both instead, so a path always means what it says.
 */

export type PathCheck = { ok: true; segments: string[] } | { ok: false; reason: string };

/** Decoded segments of a URL path ("/uploads/a%20b/" → ["uploads", "a b"]), or why it is refused. */
export function parseRequestPath(rawPath: string): PathCheck {
  if (!rawPath.startsWith("/")) return { ok: false, reason: "the path must start with /" };
  const segments: string[] = [];
  for (const raw of rawPath.split("/")) {
    if (raw === "") continue;
    if (/%(2f|5c)/i.test(raw) || raw.includes("\\")) return { ok: false, reason: "encoded slashes and backslashes are refused" };
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, reason: "the path is not valid percent-encoded UTF-8" };
    }
    if (segment === "." || segment === "..") return { ok: false, reason: "'.' and '..' segments are refused" };
    if (/[\u0000-\u001f\u007f]/.test(segment)) return { ok: false, reason: "control characters are refused" };
    if (Buffer.byteLength(segment) > 255) return { ok: false, reason: "a name is at most 255 bytes" };
    segments.push(segment);
  }
  if (segments.length > 64) return { ok: false, reason: "folders are at most 64 deep" };
  return { ok: true, segments };
}

/** The path of a request URL or a Destination header (absolute URL or absolute path), as sent: without query or fragment, not normalised. */
export function pathOfUrl(value: string): string | null {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(value);
  const path = (absolute ? absolute[1] : value).split(/[?#]/, 1)[0];
  if (absolute && path === "") return "/";
  return path.startsWith("/") ? path : null;
}
