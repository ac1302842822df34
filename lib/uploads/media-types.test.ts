import { describe, expect, it } from "vitest";
import { downloadContentType, isThumbnailable, isTypeMismatch } from "./media-types";

describe("type flags", () => {
  it("flags a claim the bytes contradict, not another name of the same type, nor a text claim for text", () => {
    expect(isTypeMismatch("image/png", "text/plain")).toBe(true);
    expect(isTypeMismatch("image/png", "text/html")).toBe(true);
    expect(isTypeMismatch("text/csv", "text/plain")).toBe(false);
    expect(isTypeMismatch("application/json", "application/json")).toBe(false);
    expect(isTypeMismatch("application/json", "text/plain")).toBe(false);
    expect(isTypeMismatch("image/bmp", "image/x-ms-bmp")).toBe(false);
    expect(isTypeMismatch("application/gzip", "application/x-gzip")).toBe(false);
    expect(isTypeMismatch("text/xml; charset=utf-8", "application/xml")).toBe(false);
    expect(isTypeMismatch(null, "image/png")).toBe(false);
    expect(isTypeMismatch("image/png", "image/png")).toBe(false);
  });

  it("makes thumbnails of raster images only", () => {
    expect(isThumbnailable("image/jpeg")).toBe(true);
    expect(isThumbnailable("image/tiff")).toBe(true);
    // BMP and ICO by every name libmagic has used for them (decoded in ./thumbnail.ts, not by sharp).
    for (const type of ["image/bmp", "image/x-ms-bmp", "image/vnd.microsoft.icon", "image/x-icon"])
      expect(isThumbnailable(type), type).toBe(true);
    expect(isThumbnailable("application/pdf")).toBe(false);
    expect(isThumbnailable("image/svg+xml")).toBe(false);
  });

  it("downloads pages, SVG, scripts and any text as plain text, other types as detected", () => {
    for (const type of [
      "text/html",
      "image/svg+xml",
      "text/xml",
      "application/json",
      "text/x-shellscript",
      "text/plain",
      "application/xhtml+xml",
    ])
      expect(downloadContentType(type), type).toBe("text/plain; charset=utf-8");
    expect(downloadContentType("image/png")).toBe("image/png");
    expect(downloadContentType("application/pdf")).toBe("application/pdf");
    expect(downloadContentType(null)).toBe("application/octet-stream");
  });
});
