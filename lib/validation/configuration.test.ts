import { describe, expect, it } from "vitest";
import { z } from "zod";
import { tokenNameSchema } from "./api-token";
import { configurationInputSchema, DEFAULT_CONFIGURATION } from "./configuration";

const form = (overrides: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(DEFAULT_CONFIGURATION).map(([key, value]) => [key, String(value)])),
  ...overrides,
});

function fieldErrors(input: Record<string, unknown>) {
  const parsed = configurationInputSchema.safeParse(input);
  return parsed.success ? {} : z.flattenError(parsed.error).fieldErrors;
}

describe("configurationInputSchema", () => {
  it("accepts the defaults as typed into the form", () => {
    const parsed = configurationInputSchema.parse(form({}));
    expect(parsed).toEqual(DEFAULT_CONFIGURATION);
  });

  it.each([
    ["re", "", "Real part is required"],
    ["im", "abc", "Imaginary part must be a number"],
    ["re", "NaN", "Real part must be a number"],
    ["cx", "Infinity", "Center X must be a finite number"],
    ["cy", "-1e400", "Center Y must be a finite number"],
    ["depth", "0", "Depth must be between 1 and 5000"],
    ["depth", "5001", "Depth must be between 1 and 5000"],
    ["depth", "12.5", "Depth must be a whole number"],
    ["width", "15", "Width must be between 16 and 4096"],
    ["height", "4097", "Height must be between 16 and 4096"],
    ["width", "1e9", "Width must be between 16 and 4096"],
    ["zoom", "0", "Zoom must be greater than 0"],
    ["zoom", "-2", "Zoom must be greater than 0"],
    ["name", "   ", "Name is required"],
  ])("rejects %s = %j with a message for that field", (field, value, message) => {
    expect(fieldErrors(form({ [field]: value }))[field as "re"]).toEqual([message]);
  });

  it("rejects an unknown colormap and control characters in names", () => {
    expect(fieldErrors(form({ colormap: "viridis" })).colormap?.[0]).toMatch(/Colormap must be one of/);
    expect(fieldErrors(form({ name: "a\u0000b" })).name).toEqual(["Name must not contain control characters"]);
  });

  it("refuses names that would read differently than they are: bidi overrides and zero-width characters", () => {
    // "invoice\u202Efdp.exe" shows as "invoiceexe.pdf"; "ad\u200Bmin" looks like "admin".
    for (const [name, found] of [
      ["invoice\u202Efdp.exe", "U+202E"],
      ["ad\u200Bmin", "U+200B"],
      ["a\u2066b\u2069", "U+2066"],
      ["x\u200Dy", "U+200D"],
      ["\u2060wj", "U+2060"],
    ]) {
      expect(fieldErrors(form({ name })).name, name).toEqual([
        `Name must not contain invisible or text-direction characters (found ${found})`,
      ]);
    }
    expect(tokenNameSchema.safeParse("deploy\u202Ekey").error?.issues.map((issue) => issue.message)).toEqual([
      "Names must not contain invisible or text-direction characters (found U+202E)",
    ]);
  });

  it("trims names and accepts unicode", () => {
    expect(configurationInputSchema.parse(form({ name: "  Жюлиа ✨ " })).name).toBe("Жюлиа ✨");
  });
});
