/** What the app does with a detected media type; detection itself is ./detect-type.ts (the worker's, not the pages'). */

export const EMPTY_FILE_TYPE = "inode/x-empty";
export const TEXT_TYPE = "text/plain";
export const BINARY_TYPE = "application/octet-stream";

/** BMP and ICO (icons and cursors, as libmagic names both): sharp cannot read them, so ./thumbnail.ts decodes their pixels itself. */
export const BMP_TYPE = "image/bmp";
export const ICON_TYPE = "image/vnd.microsoft.icon";

/** Raster types that get thumbnails; other files get no thumbnail step. */
// Not HEIC: sharp's prebuilt libheif decodes AV1 (AVIF) only. Not netpbm: sharp's libvips reads it from files only.
const THUMBNAIL_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/tiff", BMP_TYPE, ICON_TYPE]);
export const isThumbnailable = (type: string) => THUMBNAIL_TYPES.has(canonicalType(type));

// libmagic's names for types whose registered (or commonly declared) name differs.
const SAME_TYPES: Record<string, string> = {
  "application/x-gzip": "application/gzip",
  "application/x-zip-compressed": "application/zip",
  "image/x-ms-bmp": "image/bmp",
  "image/x-icon": "image/vnd.microsoft.icon",
  "font/ttf": "font/sfnt",
  "audio/mp3": "audio/mpeg",
  "text/javascript": "application/javascript",
  "text/xml": "application/xml",
};
export const canonicalType = (type: string) => {
  const bare = type.split(";")[0].trim().toLowerCase();
  return SAME_TYPES[bare] ?? bare;
};
const isTextual = (type: string) =>
  type.startsWith("text/") ||
  type.endsWith("+xml") ||
  type.endsWith("+json") ||
  ["application/json", "application/xml", "application/javascript"].includes(type);

/**
 * Declared and detected types disagree. Names of one type agree (image/bmp and
 * libmagic's image/x-ms-bmp), and a text declaration of text is not flagged:
 * text/csv or application/json declared and text/plain detected is text either way.
 */
export function isTypeMismatch(declared: string | null, detected: string | null) {
  if (!declared || !detected) return false;
  const [claimed, found] = [canonicalType(declared), canonicalType(detected)];
  if (claimed === found) return false;
  return !(isTextual(claimed) && found === TEXT_TYPE);
}

/**
 * The Content-Type an upload is downloaded with: anything a browser could
 * render as a page or run (HTML, SVG, XML, scripts, JSON, any text) goes out as
 * plain text, whatever it is; other types as detected. Always with an attachment
 * disposition, nosniff and a sandboxing CSP (server/downloads.ts).
 */
export function downloadContentType(detected: string | null) {
  if (!detected) return BINARY_TYPE;
  return isTextual(canonicalType(detected)) ? `${TEXT_TYPE}; charset=utf-8` : detected;
}
