import { describe, expect, it } from "vitest";
import { parseRequestPath, pathOfUrl } from "./paths";

describe("parseRequestPath", () => {
  it("decodes segments", () => {
    expect(parseRequestPath("/uploads/a%20b/%C3%A9t%C3%A9.txt")).toEqual({ ok: true, segments: ["uploads", "a b", "été.txt"] });
    expect(parseRequestPath("/")).toEqual({ ok: true, segments: [] });
    expect(parseRequestPath("/uploads//x/")).toEqual({ ok: true, segments: ["uploads", "x"] });
  });

  it.each([
    "/uploads/../x",
    "/uploads/%2e%2e/x",
    "/uploads/%2E%2E",
    "/uploads/./x",
    "/uploads/a%2Fb",
    "/uploads/a%2fb",
    "/uploads/a%5Cb",
    "/uploads/a\\b",
    "/uploads/a%00",
    "/uploads/%E0%A4%A",
    "uploads/x",
  ])("refuses %s", (path) => expect(parseRequestPath(path).ok).toBe(false));

  it("refuses names over 255 bytes and trees over 64 folders", () => {
    expect(parseRequestPath(`/uploads/${"é".repeat(128)}`).ok).toBe(false);
    expect(parseRequestPath(`/${"a/".repeat(65)}`).ok).toBe(false);
  });
});

describe("pathOfUrl", () => {
  it("takes the path of an absolute URL or a path, as sent", () => {
    expect(pathOfUrl("http://host:3001/uploads/a%20b?x=1")).toBe("/uploads/a%20b");
    expect(pathOfUrl("https://host")).toBe("/");
    expect(pathOfUrl("http://host/uploads/../x")).toBe("/uploads/../x");
    expect(pathOfUrl("/uploads/x#y")).toBe("/uploads/x");
    expect(pathOfUrl("uploads/x")).toBeNull();
  });
});
