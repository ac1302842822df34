import { fileTypeFromBuffer } from "file-type";

/** Bytes of the file's head that type detection reads. */
export const DETECTION_BYTES = 64 * 1024;

export const EMPTY_FILE_TYPE = "inode/x-empty";
export const TEXT_TYPE = "text/plain";
export const BINARY_TYPE = "application/octet-stream";

/**
 * The media type of a file from its first bytes, never from its name: magic
 * numbers through file-type, then UTF-8 text without NUL bytes is text/plain
 * (as `file --mime-type` does), and anything else is application/octet-stream.
 */
export async function detectType(head: Buffer, fileSize: number): Promise<string> {
  if (fileSize === 0) return EMPTY_FILE_TYPE;
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime;
  return isUtf8Text(head.subarray(0, DETECTION_BYTES), head.length < fileSize) ? TEXT_TYPE : BINARY_TYPE;
}

function isUtf8Text(bytes: Buffer, isTruncated: boolean) {
  if (bytes.includes(0)) return false;
  try {
    // stream: true accepts a character cut in half at the end of a truncated head.
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: isTruncated });
    return true;
  } catch {
    return false;
  }
}

/** Raster types sharp makes thumbnails of; other files get no thumbnail step. */
// Not HEIC: sharp's prebuilt libheif decodes AV1 (AVIF) only.
const THUMBNAIL_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/tiff"]);
export const isThumbnailable = (type: string) => THUMBNAIL_TYPES.has(type);

/** Declared and detected types disagree (text/* declarations of text are not flagged: text/csv is text/plain to us). */
export function isTypeMismatch(declared: string | null, detected: string | null) {
  if (!declared || !detected || declared === detected) return false;
  return !(declared.startsWith("text/") && detected === TEXT_TYPE);
}
