import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { CliError, EXIT } from "./errors";

/**
 * Saving downloads. The name comes from the server's Content-Disposition, which
 * for an upload is whatever its uploader called it ("../../.bashrc" included),
 * so it is reduced to one plain file name that cannot leave the target directory.
 */

/** The file name of a Content-Disposition header: the UTF-8 `filename*` when present (RFC 6266), else `filename`. */
export function fileNameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const extended = /\bfilename\*\s*=\s*([\w!#$&+.^`|~-]+)'[^']*'([^;\s]+)/i.exec(header);
  if (extended) {
    try {
      const decoded = decodeURIComponent(extended[2]);
      if (/^utf-8$/i.test(extended[1]) || /^[\x20-\x7e]*$/.test(decoded)) return decoded;
    } catch {
      // malformed percent-encoding: fall back to the plain parameter
    }
  }
  const quoted = /\bfilename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return quoted[1].replace(/\\(.)/g, "$1");
  const token = /\bfilename\s*=\s*([^;\s]+)/i.exec(header);
  return token ? token[1] : null;
}

const MAX_NAME_BYTES = 200;

/**
 * One safe file name: path separators become "_" (so "reports/2024.csv" is
 * "reports_2024.csv" and "../../x" cannot climb), control and Windows-reserved
 * characters become "_", leading dots go (no hidden files, no ".."), and
 * names Windows reserves or that end up empty fall back to `fallback`.
 */
export function safeFileName(name: string | null, fallback: string): string {
  let safe = (name ?? "")
    .normalize("NFC")
    .replace(/[/\\]/g, "_")
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}<>:"|?*]/gu, "_")
    .trim()
    .replace(/^[.\s]+/, "")
    .replace(/[.\s]+$/, "");
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(safe)) safe = `_${safe}`;
  safe = truncateKeepingExtension(safe, MAX_NAME_BYTES);
  return safe.length > 0 && safe !== "_" ? safe : fallback;
}

function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const extension = /\.[\w-]{1,10}$/.exec(name)?.[0] ?? "";
  let stem = name.slice(0, name.length - extension.length);
  while (Buffer.byteLength(stem + extension) > maxBytes) stem = [...stem].slice(0, -1).join("");
  return stem + extension;
}

/** `name` inside `directory`, or an error if it would land anywhere else (the last line of defence). */
export function pathInside(directory: string, name: string): string {
  const root = path.resolve(directory);
  const target = path.resolve(root, name);
  if (path.dirname(target) !== root || path.basename(target) !== name) {
    throw new CliError(EXIT.refused, `Refusing to write ${JSON.stringify(name)} outside ${root}`);
  }
  return target;
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** "a.png", then "a (1).png", "a (2).png"…: a download never replaces a file it was not told to. */
export async function freePath(directory: string, name: string): Promise<string> {
  const extension = path.extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 0; ; n++) {
    const candidate = pathInside(directory, n === 0 ? name : `${stem} (${n})${extension}`);
    if (!(await exists(candidate))) return candidate;
  }
}

/**
 * Where to save: `--output` as given (a directory, or a file to write or
 * replace), else a free name in the current directory.
 */
export async function downloadTarget(args: {
  output?: string;
  cwd: string;
  suggestedName: string | null;
  fallbackName: string;
}): Promise<string> {
  const name = safeFileName(args.suggestedName, args.fallbackName);
  if (args.output === undefined) return freePath(args.cwd, name);
  const output = path.resolve(args.cwd, args.output);
  const isDirectory =
    args.output.endsWith("/") ||
    args.output.endsWith(path.sep) ||
    (await stat(output).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  if (isDirectory) return freePath(output, name);
  return output;
}

/**
 * Streams a response body into `target` through a temporary file beside it,
 * renamed into place once every byte has arrived: the bytes never sit in
 * memory, and an interrupted download leaves no half file under the real name.
 */
export async function saveResponse(response: Response, target: string, onBytes?: (received: number, total: number | null) => void) {
  if (!response.body) throw new CliError(EXIT.unavailable, "The server sent no body");
  const declared = response.headers.get("content-length");
  const total = declared !== null && /^\d+$/.test(declared) ? Number(declared) : null;
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString("hex")}.part`);
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      onBytes?.(received, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(temporary, { flags: "wx" }),
    );
    if (total !== null && received !== total)
      throw new CliError(EXIT.unavailable, `The download was cut short (${received} of ${total} bytes)`);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOSPC" || code === "EROFS") {
      const reason = code === "ENOENT" ? "no such directory" : code === "ENOSPC" ? "the disk is full" : (error as Error).message;
      throw new CliError(EXIT.usage, `Cannot write ${target}: ${reason}`);
    }
    throw new CliError(EXIT.unavailable, `The download failed: ${(error as Error).message}`);
  }
  return { path: target, size: received };
}

/** What to claim an upload is (the server reads the real type from the bytes anyway). */
const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".svg": "image/svg+xml",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".json": "application/json",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
};
export const contentTypeFor = (file: string) => TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1000;
    unit++;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
