import { describe, expect, it } from "vitest";
import { parseDeclaredType, uploadNameSchema } from "./upload";

describe("uploadNameSchema", () => {
  it("keeps a name as written, slashes, dots and unicode included, with control characters made visible", () => {
    expect(uploadNameSchema.parse("notes/../ünïcødé\u0007 file.txt")).toBe("notes/../ünïcødé_ file.txt");
    expect(uploadNameSchema.parse("a\r\nContent-Type: text/html.png")).toBe("a__Content-Type: text/html.png");
    expect(uploadNameSchema.parse("cafe\u0301.txt")).toBe("café.txt"); // NFC
    expect(uploadNameSchema.parse("evil\u202Egnp.exe")).toBe("evil_gnp.exe"); // no right-to-left override
    expect(uploadNameSchema.parse("a\u200Bb\u2028c")).toBe("a_b_c");
  });

  it("refuses empty and overlong names with a message", () => {
    expect(uploadNameSchema.safeParse("  ").error?.issues[0].message).toBe("A file name is required");
    expect(uploadNameSchema.safeParse(undefined).error?.issues[0].message).toBe("A file name is required");
    expect(uploadNameSchema.safeParse("x".repeat(256)).error?.issues[0].message).toBe("File names are limited to 255 characters");
  });
});

describe("parseDeclaredType", () => {
  it("keeps what looks like a media type, lower-cased and without parameters", () => {
    expect(parseDeclaredType("Text/CSV; charset=utf-8")).toBe("text/csv");
    expect(parseDeclaredType("image/svg+xml")).toBe("image/svg+xml");
  });

  it("drops anything else", () => {
    for (const value of [null, "", "png", "image/", "<script>/x", "a/b c", `x/${"y".repeat(200)}`])
      expect(parseDeclaredType(value)).toBeNull();
  });
});
