import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeImage } from "./julia";

// scripts/render.ts, run the way `npm run render` runs it (tsx), in its own process.
const root = fileURLToPath(new URL("../..", import.meta.url));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/render.ts", ...args],
      { cwd: root, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "longrun-render-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("scripts/render.ts", () => {
  it("writes the PNG and the raw counts (uint32 little-endian, row 0 first)", async () => {
    const out = join(dir, "julia.png");
    const countsPath = join(dir, "counts.bin");
    // Negative numbers follow their option as a separate argument, as people type them.
    const args = ["--re", "-0.7", "--im", "0.27015", "--depth", "300", "--width", "48", "--height", "20"];
    const result = await runCli([
      ...args,
      "--zoom",
      "0.6",
      "--cx",
      "-0.1",
      "--colormap",
      "ocean",
      "--out",
      out,
      "--counts",
      countsPath,
      "--threads",
      "2",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const expected = computeImage({ re: -0.7, im: 0.27015, depth: 300, width: 48, height: 20, zoom: 0.6, cx: -0.1, cy: 0 });
    const bytes = await readFile(countsPath);
    expect(bytes.length).toBe(48 * 20 * 4);
    let sum = 0;
    for (let i = 0; i < bytes.length; i += 4) sum += bytes.readUInt32LE(i);
    expect(sum).toBe(expected.iterations);
    expect(bytes.readUInt32LE(4 * (5 * 48 + 7))).toBe(expected.counts[5 * 48 + 7]);
    expect(result.stdout).toContain(`sum of counts ${expected.iterations}`);

    const info = await sharp(out).metadata();
    expect([info.format, info.width, info.height]).toEqual(["png", 48, 20]);
  });

  it("refuses bad arguments with exit code 2 and says why", async () => {
    const [result, unknown] = await Promise.all([
      runCli(["--depth", "0", "--width", "15", "--colormap", "viridis", "--out", join(dir, "never.png")]),
      runCli(["--size", "12"]),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--depth: Depth must be between 1 and 5000");
    expect(result.stderr).toContain("--width: Width must be between 16 and 4096");
    expect(result.stderr).toMatch(/--colormap: Colormap must be one of/);
    expect(result.stdout).toBe("");

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--size'/);
  });
});
