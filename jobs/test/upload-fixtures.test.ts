import { beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import zlib from "node:zlib";
import { BOMB_SIZE, FIXTURE_NAMES, makeUploadFixtures, type UploadFixtures } from "@/jobs/test/upload-fixtures";

let fx: UploadFixtures;

beforeAll(async () => {
  fx = await makeUploadFixtures();
});

describe("upload fixtures", () => {
  it("has every fixture, small except the bomb", () => {
    expect(Object.keys(fx).sort()).toEqual([...FIXTURE_NAMES].sort());
    for (const name of FIXTURE_NAMES) {
      if (name === "bomb") continue;
      expect(fx[name].bytes.length, name).toBeLessThan(200 * 1024);
    }
    expect(fx.bomb.bytes.length).toBeGreaterThan(500 * 1024);
    expect(fx.bomb.bytes.length).toBeLessThan(1.5 * 1024 * 1024);
  });

  it("returns fresh buffers on every call", async () => {
    const again = await makeUploadFixtures();
    for (const name of FIXTURE_NAMES) {
      expect(again[name].bytes.equals(fx[name].bytes), name).toBe(true); // deterministic
      if (again[name].bytes.length === 0) continue;
      again[name].bytes[0] ^= 0xff; // mutating one call's buffer leaves the other intact
      expect(again[name].bytes.equals(fx[name].bytes), name).toBe(false);
    }
  });

  it("text and scriptAsPng are valid UTF-8 without NUL; empty is empty", () => {
    for (const name of ["text", "scriptAsPng"] as const) {
      const { bytes } = fx[name];
      expect(bytes.includes(0)).toBe(false);
      expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes)).not.toThrow();
    }
    expect(fx.text.bytes.toString("utf8")).toContain("naïve café ✓");
    expect(fx.scriptAsPng.name).toBe("evil.png");
    expect(fx.scriptAsPng.declaredType).toBe("image/png");
    expect(fx.empty.bytes.length).toBe(0);
    expect(fx.empty.expectedType).toBe("inode/x-empty");
  });

  it("the text fixture has a hostile name", () => {
    const { name } = fx.text;
    expect(name).toContain("/");
    expect(name).toContain("..");
    expect(name).toMatch(/[^\x00-\x7f]/);
    expect(name).toMatch(/[\x00-\x1f\x7f]/);
  });

  it.each(["png", "gif", "webp"] as const)("%s has the recorded dimensions", async (name) => {
    const meta = await sharp(fx[name].bytes).metadata();
    expect(meta.format).toBe(name);
    expect({ width: meta.width, height: meta.height }).toEqual(fx[name].image);
  });

  it("png is not a flat colour", async () => {
    const stats = await sharp(fx.png.bytes).stats();
    expect(stats.isOpaque).toBe(true);
    for (const channel of stats.channels) expect(channel.stdev).toBeGreaterThan(10);
  });

  it("jpegExif is stored 400x200 with EXIF Orientation=6 and displays 200x400", async () => {
    const meta = await sharp(fx.jpegExif.bytes).metadata();
    expect(meta.format).toBe("jpeg");
    expect(meta.orientation).toBe(6);
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 400, height: 200 });
    expect(meta.autoOrient).toEqual(fx.jpegExif.image);
    expect(fx.jpegExif.image).toEqual({ width: 200, height: 400 });

    const thumb = await sharp(fx.jpegExif.bytes).autoOrient().resize(256, 256, { fit: "inside" }).toBuffer({ resolveWithObject: true });
    expect({ width: thumb.info.width, height: thumb.info.height }).toEqual({ width: 128, height: 256 });
  });

  it("truncatedJpeg has a readable header but its thumbnail fails", async () => {
    const meta = await sharp(fx.truncatedJpeg.bytes).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual(fx.truncatedJpeg.image);
    await expect(sharp(fx.truncatedJpeg.bytes).autoOrient().resize(256, 256, { fit: "inside" }).toBuffer()).rejects.toThrow();
  });

  it("bomb's metadata says 30000x30000 (header only) and default limits reject it", async () => {
    // metadata() reads the header only; the default limitInputPixels (0x3FFF * 0x3FFF)
    // makes even metadata() refuse it, so lift the limit to read the declared size.
    const meta = await sharp(fx.bomb.bytes, { limitInputPixels: false }).metadata();
    expect(meta.format).toBe("png");
    expect({ width: meta.width, height: meta.height }).toEqual({ width: BOMB_SIZE, height: BOMB_SIZE });
    expect(fx.bomb.image).toEqual({ width: BOMB_SIZE, height: BOMB_SIZE });
    expect(meta.channels).toBe(1);
    expect(meta.depth).toBe("uchar");

    await expect(sharp(fx.bomb.bytes).metadata()).rejects.toThrow(/pixel limit/);
    await expect(sharp(fx.bomb.bytes).resize(256, 256, { fit: "inside" }).toBuffer()).rejects.toThrow(/pixel limit/);
  });

  it("bomb is a valid PNG: correct CRCs, IDAT inflates to all-zero scanlines", async () => {
    const chunks = pngChunks(fx.bomb.bytes);
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    for (const c of chunks) expect(c.crcOk, c.type).toBe(true);

    const ihdr = chunks[0].data;
    expect(ihdr.readUInt32BE(0)).toBe(BOMB_SIZE);
    expect(ihdr.readUInt32BE(4)).toBe(BOMB_SIZE);
    expect([...ihdr.subarray(8)]).toEqual([8, 0, 0, 0, 0]); // 8-bit grayscale, no interlace

    // Streamed, so memory stays small; ~0.2 s for ~900 MB of zeros.
    const expected = (BOMB_SIZE + 1) * BOMB_SIZE;
    const zeros = Buffer.alloc(1 << 20);
    let total = 0;
    let allZero = true;
    const inflate = zlib.createInflate({ chunkSize: 1 << 20 });
    inflate.on("data", (out: Buffer) => {
      total += out.length;
      if (allZero && !out.equals(zeros.subarray(0, out.length))) allZero = false;
    });
    await new Promise<void>((resolve, reject) => {
      inflate.on("end", resolve);
      inflate.on("error", reject);
      inflate.end(chunks[1].data);
    });
    expect(total).toBe(expected);
    expect(allZero).toBe(true);
  });

  it("pdf starts with %PDF-1.4 and its xref table points at its objects", () => {
    const text = fx.pdf.bytes.toString("latin1");
    expect(text.startsWith("%PDF-1.4\n")).toBe(true);
    expect(text.trimEnd().endsWith("%%EOF")).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 5)).toBe("xref\n");
    const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(text.slice(startxref)) ?? [];
    expect(Number(first)).toBe(0);
    const entries = text
      .slice(startxref)
      .split("\n")
      .slice(2, 2 + Number(count));
    entries.slice(1).forEach((entry, i) => {
      expect(entry).toMatch(/^\d{10} 00000 n $/);
      const offset = Number(entry.slice(0, 10));
      expect(text.slice(offset).startsWith(`${i + 1} 0 obj\n`)).toBe(true);
    });
    const length = Number(/\/Length (\d+) >>\nstream\n/.exec(text)?.[1]);
    const start = text.indexOf("stream\n") + "stream\n".length;
    expect(text.slice(start + length, start + length + "\nendstream".length)).toBe("\nendstream");
  });

  it("zip has one stored entry with a matching CRC", () => {
    const zip = fx.zip.bytes;
    const eocd = zip.length - 22;
    expect(zip.readUInt32LE(eocd)).toBe(0x06054b50);
    expect(zip.readUInt16LE(eocd + 10)).toBe(1);
    const cd = zip.readUInt32LE(eocd + 16);
    expect(zip.readUInt32LE(cd)).toBe(0x02014b50);
    expect(cd + zip.readUInt32LE(eocd + 12)).toBe(eocd);
    const local = zip.readUInt32LE(cd + 42);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    expect(zip.readUInt16LE(local + 8)).toBe(0); // stored
    const size = zip.readUInt32LE(local + 18);
    expect(zip.readUInt32LE(local + 22)).toBe(size);
    const nameLen = zip.readUInt16LE(local + 26);
    const dataStart = local + 30 + nameLen + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    expect(zlib.crc32(data)).toBe(zip.readUInt32LE(local + 14));
    expect(zip.readUInt32LE(cd + 16)).toBe(zip.readUInt32LE(local + 14));
    expect(dataStart + size).toBe(cd);
    expect(data.toString("utf8")).toContain("Project archive.");
  });
});

function pngChunks(png: Buffer): { type: string; data: Buffer; crcOk: boolean }[] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer; crcOk: boolean }[] = [];
  let p = 8;
  while (p < png.length) {
    const length = png.readUInt32BE(p);
    const typeAndData = png.subarray(p + 4, p + 8 + length);
    const crc = png.readUInt32BE(p + 8 + length);
    chunks.push({
      type: typeAndData.subarray(0, 4).toString("ascii"),
      data: typeAndData.subarray(4),
      crcOk: zlib.crc32(typeAndData) === crc,
    });
    p += 12 + length;
  }
  expect(p).toBe(png.length);
  return chunks;
}
