import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_NAMES, makeUploadFixtures, type UploadFixtures } from "@/jobs/test/upload-fixtures";
import { detectType, DETECTION_BYTES } from "./detect-type";

const detect = (text: string) => detectType(Buffer.from(text), Buffer.byteLength(text));

describe("detectType", () => {
  let fixtures: UploadFixtures;
  beforeAll(async () => {
    fixtures = await makeUploadFixtures();
  });

  it.each(FIXTURE_NAMES)("reads the %s fixture from its head as file --mime-type does", async (name) => {
    const { bytes, expectedType } = fixtures[name];
    expect(await detectType(bytes.subarray(0, DETECTION_BYTES), bytes.length)).toBe(expectedType);
  });

  // What Debian 12's `file --mime-type` (5.44) says of each.
  it.each([
    ["JSON", '{"name": "alpha", "values": [1, 2.5, true, null]}\n', "application/json"],
    ["HTML", "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>hi</p></body></html>\n", "text/html"],
    [
      "SVG",
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n',
      "image/svg+xml",
    ],
    ["XML", '<?xml version="1.0" encoding="UTF-8"?>\n<catalog><book id="1"/></catalog>\n', "text/xml"],
    ["a shell script", "#!/bin/sh\nset -eu\necho hello\n", "text/x-shellscript"],
    ["PBM", "P1\n2 2\n0 1\n1 0\n", "image/x-portable-bitmap"],
    ["PGM", "P5\n2 2\n255\n\u0000\u0040\u0080\u00ff", "image/x-portable-greymap"],
    ["UTF-8 text", "naïve café ✓\n", "text/plain"],
  ])("reads %s", async (_kind, text, type) => {
    expect(await detect(text)).toBe(type);
  });

  it("calls an empty file empty and bytes it knows nothing of binary", async () => {
    expect(await detectType(Buffer.alloc(0), 0)).toBe("inode/x-empty");
    expect(await detectType(Buffer.from([0x68, 0x00, 0x69, 0x00, 0xfe, 0x01]), 6)).toBe("application/octet-stream");
  });

  it("calls JSON longer than the head JSON from a valid start, and a broken start text", async () => {
    const json = JSON.stringify({ rows: Array.from({ length: 20_000 }, (_, index) => ({ index, name: `row ${index}` })) });
    expect(json.length).toBeGreaterThan(DETECTION_BYTES);
    expect(await detectType(Buffer.from(json).subarray(0, DETECTION_BYTES), json.length)).toBe("application/json");
    const broken = `{"rows": [1, 2,, 3]${" ".repeat(DETECTION_BYTES)}`;
    expect(await detectType(Buffer.from(broken).subarray(0, DETECTION_BYTES), broken.length + 10)).toBe("text/plain");
  });

  it("calls a TrueType font font/sfnt, as file 5.44 does", async () => {
    const header = Buffer.from("0001000000130100000400304646544d", "hex"); // version 1.0, 19 tables, "FFTM"
    const font = Buffer.concat([header, Buffer.alloc(1024, 0x41)]);
    expect(await detectType(font, font.length)).toBe("font/sfnt");
  });
});
