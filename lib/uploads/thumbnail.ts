import sharp from "sharp";

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

/**
 * A 256 px (long side) WebP thumbnail with EXIF orientation applied. The pixel
 * limit is checked from the header first, so a decompression bomb costs nothing;
 * a corrupt or truncated image fails with sharp's reason.
 */
export async function makeThumbnail(input: Buffer): Promise<{ webp: Buffer; width: number; height: number }> {
  refuseOversizedThumbnailInput(input.length);
  const metadata = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch((error: Error) => {
      throw new ThumbnailRefused(`Not a readable image: ${error.message}`);
    });
  const { width, height } = metadata;
  if (!width || !height) throw new ThumbnailRefused("Not a readable image: no dimensions");
  if (width * height > THUMBNAIL_MAX_PIXELS) {
    throw new ThumbnailRefused(
      `Image is ${width}x${height} (${Math.round((width * height) / 1e6)} megapixels); thumbnails are made up to ${THUMBNAIL_MAX_PIXELS / 1e6} megapixels`,
    );
  }
  const swapsSides = (metadata.orientation ?? 1) >= 5; // EXIF orientations 5-8 rotate by 90°
  try {
    // failOn stays at its default ("warning"): a truncated JPEG fails rather than showing grey.
    const webp = await sharp(input, { limitInputPixels: THUMBNAIL_MAX_PIXELS })
      .autoOrient()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    return { webp, width: swapsSides ? height : width, height: swapsSides ? width : height };
  } catch (error) {
    throw new ThumbnailRefused(`Corrupt or truncated image: ${error instanceof Error ? error.message : String(error)}`);
  }
}
