import { describe, expect, it } from "vitest";
import { isSafeInlineImageType } from "./http";

describe("inline images", () => {
  it("allows raster types and refuses scriptable or unknown ones", () => {
    expect(isSafeInlineImageType("image/png")).toBe(true);
    expect(isSafeInlineImageType("image/webp; charset=binary")).toBe(true);
    for (const type of ["image/svg+xml", "text/html", "application/xhtml+xml", "text/plain", "application/octet-stream", ""]) {
      expect(isSafeInlineImageType(type)).toBe(false);
    }
  });
});
