/**
 * Test fixtures for the upload-processing pipeline (md5, type detection from
 * content, 256 px thumbnails with sharp).
 *
 * Everything is generated at run time (images with sharp, the rest by hand), is
 * deterministic (seeded noise, fixed dates) and small (< 200 KB each; the bomb is
 * ~0.9 MB). `makeUploadFixtures()` returns fresh buffers on every call, so a test
 * may mutate them freely.
 */
import sharp from "sharp";
import zlib from "node:zlib";

export type FixtureName =
  "png" | "jpegExif" | "gif" | "webp" | "bmp" | "ico" | "pdf" | "zip" | "text" | "empty" | "truncatedJpeg" | "scriptAsPng" | "bomb";

export const FIXTURE_NAMES: readonly FixtureName[] = [
  "png",
  "jpegExif",
  "gif",
  "webp",
  "bmp",
  "ico",
  "pdf",
  "zip",
  "text",
  "empty",
  "truncatedJpeg",
  "scriptAsPng",
  "bomb",
];

export interface UploadFixture {
  /** The file's content. */
  bytes: Buffer;
  /** The file name as a client would send it (may be hostile: see `text`). */
  name: string;
  /** The MIME type the client claims (not to be trusted). */
  declaredType: string;
  /**
   * The type the pipeline should detect from the content: what
   * `file --mime-type` (libmagic) reports, or `inode/x-empty` for zero bytes.
   */
  expectedType: string;
  /**
   * For images: the *displayed* size, i.e. after applying EXIF orientation
   * (jpegExif is stored 400x200 with Orientation=6, so this is 200x400). For
   * truncatedJpeg and bomb, the size the header declares.
   */
  image?: { width: number; height: number };
}

export type UploadFixtures = Record<FixtureName, UploadFixture>;

/** Dimensions of the decompression-bomb PNG. */
export const BOMB_SIZE = 30_000;

export async function makeUploadFixtures(): Promise<UploadFixtures> {
  const [png, jpegExif, gif, webp, fullJpeg, iconPng] = await Promise.all([
    sharp(gradientRgb(640, 480), { raw: { width: 640, height: 480, channels: 3 } })
      .png({ compressionLevel: 9 })
      .toBuffer(),
    // Stored 400x200 with a red marker in the top-left corner, so a thumbnail that
    // ignores the orientation is visibly wrong (the marker should end up top-right).
    sharp(photoRgb(400, 200, 2), { raw: { width: 400, height: 200, channels: 3 } })
      .jpeg({ quality: 85 })
      .withMetadata({ orientation: 6 })
      .toBuffer(),
    sharp(gradientRgb(96, 64), { raw: { width: 96, height: 64, channels: 3 } })
      .gif()
      .toBuffer(),
    sharp(gradientRgb(320, 240), { raw: { width: 320, height: 240, channels: 3 } })
      .webp({ quality: 80 })
      .toBuffer(),
    // Baseline (not progressive) so that cutting it loses scan data, not just passes.
    sharp(photoRgb(320, 240, 3), { raw: { width: 320, height: 240, channels: 3 } })
      .jpeg({ quality: 90, progressive: false })
      .toBuffer(),
    sharp(quadrantsRgba(16, 16), { raw: { width: 16, height: 16, channels: 4 } })
      .png()
      .toBuffer(),
  ]);

  return {
    png: {
      bytes: png,
      name: "holiday-sunset.png",
      declaredType: "image/png",
      expectedType: "image/png",
      image: { width: 640, height: 480 },
    },
    jpegExif: {
      bytes: jpegExif,
      name: "IMG_20240612_143022.jpg",
      declaredType: "image/jpeg",
      expectedType: "image/jpeg",
      image: { width: 200, height: 400 },
    },
    gif: {
      bytes: gif,
      name: "loading-spinner.gif",
      declaredType: "image/gif",
      expectedType: "image/gif",
      image: { width: 96, height: 64 },
    },
    webp: {
      bytes: webp,
      name: "hero-banner.webp",
      declaredType: "image/webp",
      expectedType: "image/webp",
      image: { width: 320, height: 240 },
    },
    bmp: {
      // 150 px: rows need padding to 4 bytes.
      bytes: bmpFile(withOpaqueAlpha(gradientRgb(150, 100)), 150, 100),
      name: "scan.bmp",
      declaredType: "image/bmp",
      expectedType: "image/bmp",
      image: { width: 150, height: 100 },
    },
    ico: {
      // As favicons come: a small PNG and a larger bitmap, which the thumbnail shows.
      bytes: icoFile([
        { width: 16, height: 16, png: iconPng },
        { width: 64, height: 64, rgba: quadrantsRgba(64, 64) },
      ]),
      name: "favicon.ico",
      declaredType: "image/x-icon",
      expectedType: "image/vnd.microsoft.icon",
      image: { width: 64, height: 64 },
    },
    pdf: {
      bytes: minimalPdf("Invoice 2024-03: total 42.00 EUR"),
      name: "Invoice 2024-03 (final).pdf",
      declaredType: "application/pdf",
      expectedType: "application/pdf",
    },
    zip: {
      bytes: storedZip("readme.txt", Buffer.from("Project archive.\nOne stored entry, no compression.\n", "utf8")),
      name: "project-archive.zip",
      declaredType: "application/zip",
      expectedType: "application/zip",
    },
    text: {
      bytes: Buffer.from("naïve café ✓ — Grüße, 日本語, emoji 🎉\nsecond line\n", "utf8"),
      // Hostile on purpose: a slash, "..", non-ASCII (NFC) and a BEL control character.
      name: "notes/../ünïcødé\u0007 file.txt",
      declaredType: "text/plain",
      expectedType: "text/plain",
    },
    empty: {
      bytes: Buffer.alloc(0),
      name: "empty.dat",
      declaredType: "application/octet-stream",
      expectedType: "inode/x-empty",
    },
    truncatedJpeg: {
      // Header intact (metadata works, file-type says image/jpeg), scan data cut:
      // decoding it must fail.
      bytes: Buffer.from(fullJpeg.subarray(0, Math.floor(fullJpeg.length * 0.6))),
      name: "DSC_0042.jpg",
      declaredType: "image/jpeg",
      expectedType: "image/jpeg",
      image: { width: 320, height: 240 },
    },
    scriptAsPng: {
      bytes: Buffer.from("<html><script>alert(1)</script></html>", "utf8"),
      name: "evil.png",
      declaredType: "image/png",
      expectedType: "text/html",
    },
    bomb: {
      bytes: bombPng(BOMB_SIZE, BOMB_SIZE),
      name: "tiny-icon.png",
      declaredType: "image/png",
      expectedType: "image/png",
      image: { width: BOMB_SIZE, height: BOMB_SIZE },
    },
  };
}

// ---------------------------------------------------------------------------
// Pixel generators (raw 8-bit RGB).

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Diagonal colour gradient with concentric rings: not flat, compresses well. */
function gradientRgb(width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  const cx = width / 2;
  const cy = height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const ring = Math.floor(Math.hypot(x - cx, y - cy) / 16) % 2;
      buf[i] = Math.round((255 * x) / (width - 1));
      buf[i + 1] = Math.round((255 * y) / (height - 1));
      buf[i + 2] = ring ? 200 : 60;
    }
  }
  return buf;
}

/** Photo-like: sky/ground gradient with a little noise and a red top-left marker. */
function photoRgb(width: number, height: number, seed: number): Buffer {
  const rand = prng(seed);
  const buf = Buffer.alloc(width * height * 3);
  const horizon = Math.floor(height * 0.6);
  const marker = Math.max(8, Math.floor(Math.min(width, height) / 8));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = (rand() - 0.5) * 24;
      let r: number, g: number, b: number;
      if (x < marker && y < marker) {
        [r, g, b] = [230, 20, 20];
      } else if (y < horizon) {
        const t = y / horizon;
        [r, g, b] = [90 + 120 * t, 140 + 70 * t, 235 - 40 * t];
      } else {
        const t = (y - horizon) / (height - horizon);
        [r, g, b] = [70 - 30 * t, 130 - 50 * t, 50 - 20 * t];
      }
      buf[i] = clamp(r + n);
      buf[i + 1] = clamp(g + n);
      buf[i + 2] = clamp(b + n);
    }
  }
  return buf;
}

/**
 * Four quadrants, RGBA: red top left, green top right, blue bottom left, and
 * half-transparent yellow bottom right; a decoder that flips rows, swaps
 * channels or drops alpha gets them visibly wrong.
 */
export function quadrantsRgba(width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const isRight = x >= width / 2;
      const isBottom = y >= height / 2;
      const colour = isBottom ? (isRight ? [255, 255, 0, 128] : [0, 0, 255, 255]) : isRight ? [0, 255, 0, 255] : [255, 0, 0, 255];
      buf.set(colour, (y * width + x) * 4);
    }
  }
  return buf;
}

function withOpaqueAlpha(rgb: Buffer): Buffer {
  const rgba = Buffer.alloc((rgb.length / 3) * 4, 255);
  for (let i = 0; i < rgb.length / 3; i++) rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
  return rgba;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

// ---------------------------------------------------------------------------
// Hand-written formats.

/** A one-page PDF 1.4 showing one line of text, with a correct xref table. */
function minimalPdf(text: string): Buffer {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 18 Tf 72 720 Td (${escaped}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  // The second line is the customary binary comment (bytes >= 128).
  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** A ZIP archive holding one stored (method 0) entry with an ASCII name. */
function storedZip(entryName: string, data: Buffer): Buffer {
  const name = Buffer.from(entryName, "ascii");
  const crc = zlib.crc32(data);
  // DOS date/time: 2024-06-12 14:30:22.
  const dosTime = (14 << 11) | (30 << 5) | (22 >> 1);
  const dosDate = ((2024 - 1980) << 9) | (6 << 5) | 12;

  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); // local file header signature
  local.writeUInt16LE(10, 4); // version needed (1.0: stored)
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(0, 8); // method: stored
  local.writeUInt16LE(dosTime, 10);
  local.writeUInt16LE(dosDate, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18); // compressed size
  local.writeUInt32LE(data.length, 22); // uncompressed size
  local.writeUInt16LE(name.length, 26);
  local.writeUInt16LE(0, 28); // extra length

  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); // central directory header signature
  central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
  central.writeUInt16LE(10, 6); // version needed
  central.writeUInt16LE(0, 8); // flags
  central.writeUInt16LE(0, 10); // method
  central.writeUInt16LE(dosTime, 12);
  central.writeUInt16LE(dosDate, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt16LE(0, 30); // extra length
  central.writeUInt16LE(0, 32); // comment length
  central.writeUInt16LE(0, 34); // disk number start
  central.writeUInt16LE(1, 36); // internal attributes: text
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: -rw-r--r--
  central.writeUInt32LE(0, 42); // offset of local header

  const centralOffset = local.length + name.length + data.length;
  const centralSize = central.length + name.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory signature
  end.writeUInt16LE(0, 4); // this disk
  end.writeUInt16LE(0, 6); // disk with central directory
  end.writeUInt16LE(1, 8); // entries on this disk
  end.writeUInt16LE(1, 10); // entries in total
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  end.writeUInt16LE(0, 20); // comment length

  return Buffer.concat([local, name, data, central, name, end]);
}

/**
 * A BMP of RGBA pixels, written as image programs write the common kinds:
 * 24-bit (alpha dropped) with a BITMAPINFOHEADER; 32-bit with a BITMAPV5HEADER
 * whose bit fields include an alpha mask; 8-bit with a palette of the pixels'
 * colours (at most 256; alpha dropped). Rows go bottom-up unless `topDown`
 * (a negative height). `declared` overrides the size the header states.
 */
export function bmpFile(
  rgba: Buffer,
  width: number,
  height: number,
  options: { bitsPerPixel?: 8 | 24 | 32; topDown?: boolean; declared?: { width: number; height: number } } = {},
): Buffer {
  const { bitsPerPixel = 24, topDown = false, declared = { width, height } } = options;
  const pixels = Array.from({ length: width * height }, (_, i) => rgba.readUInt32BE(i * 4));
  const palette = bitsPerPixel === 8 ? [...new Set(pixels.map((pixel) => pixel >>> 8))] : [];
  if (palette.length > 256) throw new Error("an 8-bit BMP has at most 256 colours");
  const headerSize = bitsPerPixel === 32 ? 124 : 40;
  const offset = 14 + headerSize + palette.length * 4;
  const stride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const file = Buffer.alloc(offset + stride * height);
  file.write("BM", 0, "latin1");
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(offset, 10);
  file.writeUInt32LE(headerSize, 14);
  file.writeInt32LE(declared.width, 18);
  file.writeInt32LE(topDown ? -declared.height : declared.height, 22);
  file.writeUInt16LE(1, 26); // planes
  file.writeUInt16LE(bitsPerPixel, 28);
  file.writeUInt32LE(bitsPerPixel === 32 ? 3 : 0, 30); // BI_BITFIELDS or BI_RGB
  file.writeUInt32LE(stride * height, 34);
  file.writeUInt32LE(palette.length, 46);
  if (bitsPerPixel === 32) {
    // Red, green, blue and alpha masks, then the sRGB colour space ("sRGB" backwards).
    [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000].forEach((mask, i) => file.writeUInt32LE(mask >>> 0, 54 + i * 4));
    file.write("BGRs", 70, "latin1");
  }
  palette.forEach((rgb, i) => file.writeUInt32LE(rgb, 14 + headerSize + i * 4)); // little-endian: B, G, R, 0
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const pixel = pixels[y * width + x];
      if (bitsPerPixel === 8) file[row + x] = palette.indexOf(pixel >>> 8);
      else if (bitsPerPixel === 24) file.writeUIntLE(pixel >>> 8, row + x * 3, 3);
      else file.writeUInt32LE((((pixel & 0xff) << 24) | (pixel >>> 8)) >>> 0, row + x * 4); // B, G, R, A
    }
  }
  return file;
}

/**
 * An ICO (Windows icon) holding the given images: each a whole PNG file, or a
 * 32-bit bitmap as Windows stores icons (no file header, the height doubled to
 * count the 1-bit transparency mask that follows the pixels; left empty here,
 * so the alpha channel decides).
 */
export function icoFile(images: ({ width: number; height: number } & ({ png: Buffer } | { rgba: Buffer }))[]): Buffer {
  const bodies = images.map((image) => {
    if ("png" in image) return image.png;
    const bitmap = bmpFile(image.rgba, image.width, image.height, { bitsPerPixel: 32 });
    const header = Buffer.alloc(40);
    header.writeUInt32LE(40, 0);
    header.writeInt32LE(image.width, 4);
    header.writeInt32LE(image.height * 2, 8);
    header.writeUInt16LE(1, 12);
    header.writeUInt16LE(32, 14);
    const maskStride = Math.ceil(image.width / 32) * 4;
    return Buffer.concat([header, bitmap.subarray(bitmap.readUInt32LE(10)), Buffer.alloc(maskStride * image.height)]);
  });
  const directory = Buffer.alloc(6 + 16 * images.length);
  directory.writeUInt16LE(1, 2); // type: icon
  directory.writeUInt16LE(images.length, 4);
  let offset = directory.length;
  images.forEach((image, i) => {
    const entry = 6 + 16 * i;
    directory[entry] = image.width % 256; // 0 stands for 256
    directory[entry + 1] = image.height % 256;
    directory.writeUInt16LE(1, entry + 4); // planes
    directory.writeUInt16LE(32, entry + 6); // bits per pixel
    directory.writeUInt32LE(bodies[i].length, entry + 8);
    directory.writeUInt32LE(offset, entry + 12);
    offset += bodies[i].length;
  });
  return Buffer.concat([directory, ...bodies]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(data, zlib.crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid 8-bit grayscale PNG of width x height all-black pixels whose IDAT is
 * the zlib stream of (1 + width) * height zero bytes (filter byte 0 + pixels per
 * scanline): ~0.9 MB for 30000x30000, inflating to ~900 MB.
 *
 * To keep memory and time small, the zero stream is deflated in equal pieces,
 * each ended with a full flush (so it is independent of what precedes it): the
 * compressed piece is computed once and repeated, followed by the remainder, an
 * empty final block, and the Adler-32 (for n zero bytes: a = 1, b = n mod 65521).
 */
function bombPng(width: number, height: number): Buffer {
  const rowBytes = width + 1;
  const total = rowBytes * height;
  const pieceLen = rowBytes * 256; // ~7.7 MB of zeros per piece
  const deflatePiece = (len: number) => zlib.deflateRawSync(Buffer.alloc(len), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });

  const parts: Buffer[] = [Buffer.from([0x78, 0xda])]; // zlib header: deflate, 32K window, level 9
  const piece = deflatePiece(pieceLen);
  const pieces = Math.floor(total / pieceLen);
  for (let i = 0; i < pieces; i++) parts.push(piece);
  const rest = total - pieces * pieceLen;
  if (rest > 0) parts.push(deflatePiece(rest));
  parts.push(Buffer.from([0x03, 0x00])); // final, empty fixed-Huffman block
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((total % 65521) << 16) | 1) >>> 0, 0);
  parts.push(adler);
  const idat = Buffer.concat(parts);

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: grayscale
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}
