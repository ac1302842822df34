import { z } from "zod";

export const UPLOAD_NAME_MAX_LENGTH = 255;

/**
 * A file's name as a person gave it. It is only ever displayed and sent back in
 * Content-Disposition (storage keys are ours), so slashes and ".." are kept as
 * written. Control characters (which would corrupt headers and logs) and
 * invisible format characters (bidi overrides that make "evil\u202Egnp.exe"
 * read "evilexe.png", zero-width spaces, line separators) become "_".
 */
export const uploadNameSchema = z
  .string({ message: "A file name is required" })
  .transform((name) =>
    name
      .normalize("NFC")
      .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "_")
      .trim(),
  )
  .pipe(
    z
      .string()
      .min(1, "A file name is required")
      .max(UPLOAD_NAME_MAX_LENGTH, `File names are limited to ${UPLOAD_NAME_MAX_LENGTH} characters`),
  );

/** What the browser said the type was: kept only if it looks like a media type, and never trusted. */
export function parseDeclaredType(value: string | null | undefined): string | null {
  const type = value?.split(";")[0].trim().toLowerCase();
  return type && /^[a-z0-9][\w.+-]*\/[\w.+-]+$/.test(type) && type.length <= 100 ? type : null;
}

export const uploadIdSchema = z.uuid();
