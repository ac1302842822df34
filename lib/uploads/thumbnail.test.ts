import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { bmpFile, icoFile, quadrantsRgba } from "@/jobs/test/upload-fixtures";
import { makeThumbnail, ThumbnailRefused } from "./thumbnail";

/** The thumbnail's pixel at the centre of each quadrant, RGBA. */
async function quadrantColours(webp: Buffer) {
  const { data, info } = await sharp(webp).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)];
  const [left, right, top, bottom] = [info.width / 4, (3 * info.width) / 4, info.height / 4, (3 * info.height) / 4].map(Math.floor);
  return { topLeft: at(left, top), topRight: at(right, top), bottomLeft: at(left, bottom), bottomRight: at(right, bottom) };
}

/** Each channel within the loss of a WebP at quality 80 of flat colours. */
function expectColour(actual: number[], expected: number[], label: string) {
  expect(actual.length, label).toBe(4);
  actual.forEach((channel, index) =>
    expect(Math.abs(channel - expected[index]), `${label} channel ${index}: ${actual.join(",")}`).toBeLessThan(12),
  );
}

const RED = [255, 0, 0, 255];
const GREEN = [0, 255, 0, 255];
const BLUE = [0, 0, 255, 255];
const YELLOW = [255, 255, 0, 255];
const HALF_YELLOW = [255, 255, 0, 128];

describe("thumbnails of BMP and ICO files, which sharp cannot read", () => {
  const pixels = quadrantsRgba(40, 30);

  it.each([
    { variant: "24-bit, bottom-up", options: { bitsPerPixel: 24 as const }, bottomRight: YELLOW },
    { variant: "24-bit, top-down", options: { bitsPerPixel: 24 as const, topDown: true }, bottomRight: YELLOW },
    { variant: "8-bit palette", options: { bitsPerPixel: 8 as const }, bottomRight: YELLOW },
    { variant: "32-bit with an alpha mask", options: { bitsPerPixel: 32 as const }, bottomRight: HALF_YELLOW },
  ])("decodes a $variant BMP the right way up, in its colours", async ({ options, bottomRight }) => {
    const made = await makeThumbnail(bmpFile(pixels, 40, 30, options), "image/bmp");
    expect({ width: made.width, height: made.height }).toEqual({ width: 40, height: 30 });
    const colours = await quadrantColours(made.webp);
    expectColour(colours.topLeft, RED, "top left");
    expectColour(colours.topRight, GREEN, "top right");
    expectColour(colours.bottomLeft, BLUE, "bottom left");
    expectColour(colours.bottomRight, bottomRight, "bottom right");
  });

  it("shows an icon's largest image, a bitmap with its transparency or a PNG", async () => {
    const png = await sharp(quadrantsRgba(48, 48), { raw: { width: 48, height: 48, channels: 4 } })
      .png()
      .toBuffer();
    const bitmapLargest = icoFile([
      { width: 16, height: 16, rgba: Buffer.alloc(16 * 16 * 4) },
      { width: 64, height: 64, rgba: quadrantsRgba(64, 64) },
      { width: 48, height: 48, png },
    ]);
    const pngLargest = icoFile([
      { width: 16, height: 16, rgba: Buffer.alloc(16 * 16 * 4) },
      { width: 48, height: 48, png },
    ]);
    for (const [label, icon, size] of [
      ["bitmap", bitmapLargest, 64],
      ["PNG", pngLargest, 48],
    ] as const) {
      const made = await makeThumbnail(icon, "image/vnd.microsoft.icon");
      expect({ width: made.width, height: made.height }, label).toEqual({ width: size, height: size });
      const colours = await quadrantColours(made.webp);
      expectColour(colours.topLeft, RED, `${label} top left`);
      expectColour(colours.bottomLeft, BLUE, `${label} bottom left`);
      expectColour(colours.bottomRight, HALF_YELLOW, `${label} bottom right`);
    }
  });

  it("refuses a BMP whose header declares 100000x100000 before decoding it", async () => {
    for (const topDown of [false, true]) {
      const hostile = bmpFile(quadrantsRgba(4, 4), 4, 4, { declared: { width: 100_000, height: 100_000 }, topDown });
      await expect(makeThumbnail(hostile, "image/bmp")).rejects.toThrow(
        new ThumbnailRefused("Image is 100000x100000 (10000 megapixels); thumbnails are made up to 100 megapixels"),
      );
    }
  });

  it("refuses an icon whose bitmaps declare more pixels than the limit, one or many", async () => {
    const huge = icoFile([{ width: 4, height: 4, rgba: quadrantsRgba(4, 4) }]);
    huge.writeUInt32LE(40_000, 6 + 16 + 4); // the bitmap header's width and (doubled) height
    huge.writeUInt32LE(80_000, 6 + 16 + 8);
    await expect(makeThumbnail(huge, "image/vnd.microsoft.icon")).rejects.toThrow(/^Icon holds 1 images of 1600 megapixels in all/);

    // Many directory entries pointing at one 6000x6000 header: each within the limit, together far beyond it.
    const small = icoFile([{ width: 4, height: 4, rgba: quadrantsRgba(4, 4) }]);
    small.writeUInt32LE(6000, 6 + 16 + 4);
    small.writeUInt32LE(12_000, 6 + 16 + 8);
    const entries = 1000;
    const body = small.subarray(6 + 16);
    const directory = Buffer.alloc(6 + 16 * entries);
    directory.writeUInt16LE(1, 2);
    directory.writeUInt16LE(entries, 4);
    for (let index = 0; index < entries; index++) small.copy(directory, 6 + 16 * index, 6, 6 + 12);
    for (let index = 0; index < entries; index++) directory.writeUInt32LE(directory.length, 6 + 16 * index + 12);
    await expect(makeThumbnail(Buffer.concat([directory, body]), "image/vnd.microsoft.icon")).rejects.toThrow(
      /^Icon holds 1000 images of 36000 megapixels in all/,
    );
  });

  it("fails a truncated BMP or icon with a reason, as a refusal", async () => {
    const bmp = bmpFile(quadrantsRgba(40, 30), 40, 30);
    await expect(makeThumbnail(bmp.subarray(0, bmp.length / 2), "image/bmp")).rejects.toThrow(/^Not a readable image: /);
    await expect(makeThumbnail(bmp.subarray(0, 20), "image/bmp")).rejects.toThrow("Not a readable image: truncated header");
    const icon = icoFile([{ width: 64, height: 64, rgba: quadrantsRgba(64, 64) }]);
    await expect(makeThumbnail(icon.subarray(0, icon.length / 2), "image/vnd.microsoft.icon")).rejects.toBeInstanceOf(ThumbnailRefused);
    await expect(makeThumbnail(icon.subarray(0, 30), "image/vnd.microsoft.icon")).rejects.toThrow("Not a readable image: truncated header");
  });
});
