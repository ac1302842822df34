import { decode as decodeBmp } from "@cwasm/nsbmp";
import decodeIco from "decode-ico";
import sharp from "sharp";
import { BMP_TYPE, canonicalType, ICON_TYPE } from "./media-types";

export const THUMBNAIL_SIZE = 256;
/** Images beyond this many pixels are refused from their header, before any decoding (a 30000x30000 PNG is 900 MP). */
export const THUMBNAIL_MAX_PIXELS = 100_000_000;
/** Files beyond this size are not read into memory for a thumbnail. */
export const THUMBNAIL_MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** A reason a file gets no thumbnail that retrying will not change. */
export class ThumbnailRefused extends Error {}

/** Files beyond THUMBNAIL_MAX_INPUT_BYTES are refused by size, before a byte is read. */
export function refuseOversizedThumbnailInput(size: number) {
  if (size > THUMBNAIL_MAX_INPUT_BYTES) {
    throw new ThumbnailRefused(`File is larger than ${THUMBNAIL_MAX_INPUT_BYTES / 1024 / 1024} MiB; no thumbnail is made`);
  }
}

function refuseOversizedImage(width: number, height: number) {
  if (width * height > THUMBNAIL_MAX_PIXELS) {
    throw new ThumbnailRefused(
      `Image is ${width}x${height} (${Math.round((width * height) / 1e6)} megapixels); thumbnails are made up to ${THUMBNAIL_MAX_PIXELS / 1e6} megapixels`,
    );
  }
}

/**
 * A 256 px (long side) WebP thumbnail with EXIF orientation applied, of a file
 * of the given (detected) type. The pixel limit is checked from the header
 * first, so a decompression bomb costs nothing; a corrupt or truncated image
 * fails with the decoder's reason.
 */
export async function makeThumbnail(input: Buffer, type: string): Promise<{ webp: Buffer; width: number; height: number }> {
  refuseOversizedThumbnailInput(input.length);
  const image = decodeForSharp(input, type);
  const metadata = await sharp(image.data, { limitInputPixels: false, raw: image.raw })
    .metadata()
    .catch((error: Error) => {
      throw new ThumbnailRefused(`Not a readable image: ${error.message}`);
    });
  const { width, height } = metadata;
  if (!width || !height) throw new ThumbnailRefused("Not a readable image: no dimensions");
  refuseOversizedImage(width, height);
  const swapsSides = (metadata.orientation ?? 1) >= 5; // EXIF orientations 5-8 rotate by 90°
  try {
    // failOn stays at its default ("warning"): a truncated JPEG fails rather than showing grey.
    const webp = await sharp(image.data, { limitInputPixels: THUMBNAIL_MAX_PIXELS, raw: image.raw })
      .autoOrient()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    return { webp, width: swapsSides ? height : width, height: swapsSides ? width : height };
  } catch (error) {
    throw new ThumbnailRefused(`Corrupt or truncated image: ${error instanceof Error ? error.message : String(error)}`);
  }
}

type SharpInput = { data: Buffer; raw?: { width: number; height: number; channels: 4 } };

/**
 * What sharp reads: the file itself, or for BMP and ICO, which sharp cannot
 * decode, their RGBA pixels decoded here once the sizes their headers declare
 * pass the pixel limit (the decoders allocate the whole image at once). BMP:
 * libnsbmp (NetSurf's decoder, as WebAssembly), which reads every variant
 * (bit fields, RLE, top-down, 16-bit); ICO: decode-ico, which keeps icons'
 * transparency masks. Of an icon's images, the largest is shown.
 */
function decodeForSharp(input: Buffer, type: string): SharpInput {
  const kind = canonicalType(type);
  if (kind !== BMP_TYPE && kind !== ICON_TYPE) return { data: input };
  if (kind === BMP_TYPE) {
    const { width, height } = bmpHeaderSize(input);
    refuseOversizedImage(width, height);
  } else {
    // decode-ico decodes all of an icon's bitmaps: together they must pass the limit.
    const sizes = iconHeaderSizes(input);
    const pixels = sizes.reduce((sum, size) => sum + size.width * size.height, 0);
    if (pixels > THUMBNAIL_MAX_PIXELS) {
      throw new ThumbnailRefused(
        `Icon holds ${sizes.length} images of ${Math.round(pixels / 1e6)} megapixels in all; thumbnails are made up to ${THUMBNAIL_MAX_PIXELS / 1e6} megapixels`,
      );
    }
  }
  let decoded: { width: number; height: number; data: ArrayBufferView; type?: "png" | "bmp" };
  try {
    // decode-ico reads images through the input's whole ArrayBuffer, past its end: it gets a copy of its own.
    decoded = kind === BMP_TYPE ? decodeBmp(input) : largest(decodeIco(new Uint8Array(input)));
  } catch (error) {
    throw new ThumbnailRefused(`Not a readable image: ${error instanceof Error ? error.message : String(error)}`);
  }
  const data = Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);
  // An icon's image may be a whole PNG file, which sharp reads as it is.
  if (decoded.type === "png") return { data };
  return { data, raw: { width: decoded.width, height: decoded.height, channels: 4 } };
}

const largest = <T extends { width: number; height: number }>(images: T[]) => {
  if (images.length === 0) throw new Error("the icon holds no image");
  return images.reduce((best, image) => (image.width * image.height > best.width * best.height ? image : best));
};

const truncated = () => new ThumbnailRefused("Not a readable image: truncated header");

/** The size a BMP's header declares: 16-bit in the oldest header (12 bytes long), 32-bit and signed after (negative heights are top-down). */
function bmpHeaderSize(bytes: Buffer) {
  if (bytes.length < 26) throw truncated();
  if (bytes.readUInt32LE(14) === 12) return { width: bytes.readUInt16LE(18), height: bytes.readUInt16LE(20) };
  return { width: Math.abs(bytes.readInt32LE(18)), height: Math.abs(bytes.readInt32LE(22)) };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The sizes an ICO's images declare, read as decode-ico reads them: a PNG's from
 * its IHDR, a bitmap's from its header (whose height counts the transparency
 * mask too, so half of it is the image).
 */
function iconHeaderSizes(bytes: Buffer) {
  if (bytes.length < 6) throw truncated();
  return Array.from({ length: bytes.readUInt16LE(4) }, (_, index) => {
    const entry = 6 + 16 * index;
    if (bytes.length < entry + 16) throw truncated();
    const [size, offset] = [bytes.readUInt32LE(entry + 8), bytes.readUInt32LE(entry + 12)];
    if (bytes.length < offset + Math.max(size, 24)) throw truncated();
    if (bytes.subarray(offset, offset + 8).equals(PNG_SIGNATURE)) {
      return { width: bytes.readUInt32BE(offset + 16), height: bytes.readUInt32BE(offset + 20) };
    }
    return { width: bytes.readUInt32LE(offset + 4), height: Math.floor(bytes.readUInt32LE(offset + 8) / 2) };
  });
}
