import { WASMagic } from "wasmagic";
import { isSfntFont, isTruncatedJson } from "./libmagic-gaps";
import { BINARY_TYPE, EMPTY_FILE_TYPE, TEXT_TYPE } from "./media-types";

/** Bytes of the file's head that type detection reads. */
export const DETECTION_BYTES = 64 * 1024;

// libmagic compiled to WebAssembly, with its magic database inside the .wasm: nothing is fetched at run time.
let magic: Promise<WASMagic> | undefined;
function getMagic() {
  magic ??= WASMagic.create().catch((error: unknown) => {
    magic = undefined; // a later call tries again
    throw error;
  });
  return magic;
}

/**
 * The media type of a file from its first bytes, never from its name, as
 * `file --mime-type` reads it: libmagic itself (file 5.48's, as WebAssembly). Only the
 * head is read, so what libmagic learns from the rest of a file is out of reach:
 * a PIE executable reads as a shared library (libmagic needs its dynamic section);
 * JSON longer than the head is accepted from a valid start (./libmagic-gaps.ts).
 */
export async function detectType(head: Buffer, fileSize: number): Promise<string> {
  if (fileSize === 0) return EMPTY_FILE_TYPE;
  const bytes = head.subarray(0, DETECTION_BYTES);
  const type = (await getMagic()).detect(bytes) || BINARY_TYPE;
  if (type === BINARY_TYPE && isSfntFont(bytes)) return "font/sfnt";
  if (type === TEXT_TYPE && bytes.length < fileSize && isTruncatedJson(bytes)) return "application/json";
  return type;
}
