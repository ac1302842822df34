import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { downloadTarget, fileNameFromDisposition, freePath, pathInside, safeFileName } from "./files";
import { retryAfterMs } from "./client";
import { normaliseUrl, resolveSettings } from "./config";

describe("the name of a download", () => {
  it("reads RFC 6266 Content-Disposition, preferring the UTF-8 name", () => {
    expect(fileNameFromDisposition(`attachment; filename="caf_.png"; filename*=UTF-8''caf%C3%A9.png`)).toBe("café.png");
    expect(fileNameFromDisposition(`attachment; filename="say \\"hi\\".txt"`)).toBe('say "hi".txt');
    expect(fileNameFromDisposition("attachment; filename=plain.bin")).toBe("plain.bin");
    expect(fileNameFromDisposition(`attachment; filename="fallback.txt"; filename*=UTF-8''%E0%A4%A`)).toBe("fallback.txt");
    expect(fileNameFromDisposition("attachment")).toBeNull();
    expect(fileNameFromDisposition(null)).toBeNull();
  });

  it.each([
    ["../../x", "_.._x"],
    ["/etc/passwd", "_etc_passwd"],
    ["..\\..\\windows\\win.ini", "_.._windows_win.ini"],
    ["reports/2024.csv", "reports_2024.csv"],
    ["..", "fallback"],
    [".", "fallback"],
    ["", "fallback"],
    ["/", "fallback"],
    [".bashrc", "bashrc"],
    ["evil\u202Egnp.exe", "evil_gnp.exe"],
    ["line\nbreak.txt", "line_break.txt"],
    ['a<b>c:"d"|e?f*.txt', "a_b_c__d__e_f_.txt"],
    ["CON.txt", "_CON.txt"],
    ["trailing. ", "trailing"],
    ["café.png", "café.png"],
  ])("makes %j a plain file name", (name, expected) => {
    const safe = safeFileName(name, "fallback");
    expect(safe).toBe(expected);
    const directory = path.resolve("/tmp/target");
    expect(path.dirname(pathInside(directory, safe))).toBe(directory);
  });

  it("keeps the extension of a name cut to 200 bytes", () => {
    const safe = safeFileName(`${"é".repeat(300)}.png`, "fallback");
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(200);
    expect(safe.endsWith("é.png")).toBe(true);
  });

  it("refuses a name that would leave the directory", () => {
    expect(() => pathInside("/tmp/target", "../x")).toThrow(/outside/);
    expect(() => pathInside("/tmp/target", "a/b")).toThrow(/outside/);
  });

  it("does not replace an existing file unless --output names it", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "longrun-cli-"));
    writeFileSync(path.join(directory, "a.png"), "");
    writeFileSync(path.join(directory, "a (1).png"), "");
    expect(await freePath(directory, "a.png")).toBe(path.join(directory, "a (2).png"));
    const hostile = { cwd: directory, suggestedName: "../../a.png", fallbackName: "id.png" };
    expect(await downloadTarget(hostile)).toBe(path.join(directory, "_.._a.png"));
    expect(await downloadTarget({ ...hostile, output: "." })).toBe(path.join(directory, "_.._a.png"));
    expect(await downloadTarget({ ...hostile, output: "a.png" })).toBe(path.join(directory, "a.png"));
    expect(await downloadTarget({ ...hostile, output: "sub/" })).toBe(path.join(directory, "sub", "_.._a.png"));
  });
});

describe("settings", () => {
  it("normalises the server URL and refuses what is not http(s)", () => {
    expect(normaliseUrl("http://localhost:3000/")).toBe("http://localhost:3000");
    expect(normaliseUrl("https://example.test/longrun/")).toBe("https://example.test/longrun");
    expect(() => normaliseUrl("localhost:3000")).toThrow(/http/);
    expect(() => normaliseUrl("ftp://example.test")).toThrow(/http/);
    expect(() => normaliseUrl("https://user:pw@example.test")).toThrow(/token/);
  });

  it("sends the stored token only to the server it was stored for", () => {
    const token = `lr_${"a".repeat(43)}`;
    const stored = { url: "http://localhost:3000", token };
    expect(resolveSettings({}, stored, undefined)).toMatchObject({ url: "http://localhost:3000", token, tokenSource: "config" });
    expect(resolveSettings({}, stored, "http://localhost:3000/")).toMatchObject({ token });
    expect(resolveSettings({}, stored, "https://elsewhere.test")).toMatchObject({ url: "https://elsewhere.test", token: null });
    expect(resolveSettings({ LONGRUN_URL: "https://elsewhere.test" }, stored, undefined)).toMatchObject({ token: null });
    expect(resolveSettings({ LONGRUN_TOKEN: "lr_env" }, stored, "https://elsewhere.test")).toMatchObject({
      token: "lr_env",
      tokenSource: "LONGRUN_TOKEN",
    });
  });

  it("reads Retry-After as seconds or a date, within bounds", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(null)).toBe(1000);
    expect(retryAfterMs("soon")).toBe(1000);
    expect(retryAfterMs("100000")).toBe(120_000);
    const now = Date.parse("2026-11-24T01:00:00Z");
    expect(retryAfterMs("Tue, 24 Nov 2026 01:00:05 GMT", now)).toBe(5000);
  });
});
