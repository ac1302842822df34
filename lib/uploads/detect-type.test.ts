import { describe, expect, it } from "vitest";
import { detectType, isThumbnailable, isTypeMismatch } from "./detect-type";

describe("detectType", () => {
  it("reads magic numbers, not names", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");
    expect(await detectType(png, png.length)).toBe("image/png");
  });

  it("calls UTF-8 without NUL bytes text, an empty file empty, and anything else binary", async () => {
    expect(await detectType(Buffer.from("naïve café ✓\n"), 15)).toBe("text/plain");
    expect(await detectType(Buffer.alloc(0), 0)).toBe("inode/x-empty");
    expect(await detectType(Buffer.from([0x68, 0x00, 0x69]), 3)).toBe("application/octet-stream");
    expect(await detectType(Buffer.from([0xc3, 0x28]), 2)).toBe("application/octet-stream"); // invalid UTF-8
  });

  it("accepts a character cut in half at the end of a head that is not the whole file", async () => {
    const text = Buffer.from("ab✓"); // ✓ is three bytes
    const head = text.subarray(0, 4);
    expect(await detectType(head, 1000)).toBe("text/plain");
    expect(await detectType(head, head.length)).toBe("application/octet-stream"); // the whole file: truly broken
  });
});

describe("type flags", () => {
  it("flags a claim the bytes contradict, but not text/csv for text", () => {
    expect(isTypeMismatch("image/png", "text/plain")).toBe(true);
    expect(isTypeMismatch("text/csv", "text/plain")).toBe(false);
    expect(isTypeMismatch(null, "image/png")).toBe(false);
    expect(isTypeMismatch("image/png", "image/png")).toBe(false);
  });

  it("makes thumbnails of raster images only", () => {
    expect(isThumbnailable("image/jpeg")).toBe(true);
    expect(isThumbnailable("application/pdf")).toBe(false);
    expect(isThumbnailable("image/svg+xml")).toBe(false);
  });
});
