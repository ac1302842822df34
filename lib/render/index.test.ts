import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Worker } from "node:worker_threads";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { colorize, COLORMAP_NAMES } from "./colormaps";
import { encodePng, isRenderAborted, RenderPool, renderPng, type RenderProgress } from "./index";
import { computeImage, type JuliaParams } from "./julia";

const REFERENCE_512: JuliaParams = { re: -0.8, im: 0.156, depth: 256, width: 512, height: 512, zoom: 1, cx: 0, cy: 0 };
const REFERENCE_500x300: JuliaParams = { re: -0.7, im: 0.27015, depth: 512, width: 500, height: 300, zoom: 0.6, cx: 0, cy: 0 };
/** Minutes of work (with c = 0 the whole unit disk runs to depth): only ever rendered to be stopped. */
const HUGE: JuliaParams = { re: 0, im: 0, depth: 5000, width: 4096, height: 4096, zoom: 1, cx: 0, cy: 0 };

const pool = new RenderPool({ threads: 2 });
afterAll(() => pool.close());

/** The pool's threads, for tests that break one on purpose. */
function workersOf(renderPool: RenderPool): Worker[] {
  const slots = (renderPool as unknown as { slots: ({ worker: Worker } | null)[] }).slots;
  return slots.flatMap((slot) => (slot ? [slot.worker] : []));
}

describe("RenderPool", () => {
  it("gives the reference sums with 2 threads, the same counts as one thread", async () => {
    for (const [params, expected] of [
      [REFERENCE_512, 12_210_239],
      [REFERENCE_500x300, 9_842_832],
    ] as const) {
      const outcome = await pool.render(params);
      expect(outcome.iterations).toBe(expected);
      expect(Buffer.from(outcome.counts.buffer).equals(Buffer.from(computeImage(params).counts.buffer))).toBe(true);
      expect(outcome.wallMs).toBeGreaterThan(0);
      expect(outcome.cpuMs).toBeGreaterThan(0);
    }
  });

  it("reports progress after each band, monotonic, ending at 1", async () => {
    const progress: RenderProgress[] = [];
    await pool.render(REFERENCE_500x300, { onProgress: (p) => progress.push(p) });
    expect(progress.length).toBeGreaterThanOrEqual(64);
    for (let i = 1; i < progress.length; i++) expect(progress[i].rowsDone).toBeGreaterThan(progress[i - 1].rowsDone);
    expect(progress.at(-1)).toEqual({ rowsDone: 300, rows: 300, fraction: 1 });
  });

  it("renders concurrent calls correctly", async () => {
    const small: JuliaParams = { ...REFERENCE_512, width: 64, height: 64 };
    const outcomes = await Promise.all([pool.render(REFERENCE_512), pool.render(small), pool.render(REFERENCE_500x300)]);
    expect(outcomes.map((outcome) => outcome.iterations)).toEqual([12_210_239, computeImage(small).iterations, 9_842_832]);
  });

  it("stops a huge render soon after its signal aborts, and renders correctly afterwards", async () => {
    const controller = new AbortController();
    const rendering = pool.render(HUGE, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const abortedAt = performance.now();
    controller.abort();
    const error = await rendering.catch((reason: unknown) => reason);
    const stopMs = performance.now() - abortedAt;
    expect(isRenderAborted(error)).toBe(true);
    expect((error as Error).name).toBe("AbortError");
    // Bands here are single rows: at most 4096 * 5000 iterations, ~50 ms.
    expect(stopMs).toBeLessThan(500);
    expect((await pool.render(REFERENCE_512)).iterations).toBe(12_210_239);
  });

  it("rejects with the signal's own reason, and at once when already aborted", async () => {
    const superseded = new Error("superseded");
    const controller = new AbortController();
    const rendering = pool.render(HUGE, { signal: controller.signal });
    controller.abort(superseded);
    await expect(rendering).rejects.toBe(superseded);
    expect(isRenderAborted(superseded)).toBe(true);
    expect(isRenderAborted(new Error("disk full"))).toBe(false);
    await expect(pool.render(REFERENCE_512, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects params it cannot render", async () => {
    await expect(pool.render({ ...REFERENCE_512, width: 10.5 })).rejects.toThrow(RangeError);
    await expect(pool.render({ ...REFERENCE_512, cx: Number.NaN })).rejects.toThrow(/cx must be a finite number/);
  });

  it("rejects the render a crashing thread was on, replaces the thread, and goes on", async () => {
    const crashPool = new RenderPool({ threads: 2 });
    try {
      await crashPool.render({ ...REFERENCE_512, width: 32, height: 32 }); // both threads up
      // A message the thread does not understand makes it throw (an uncaught error in
      // the thread) before it reads the render queued behind it.
      const [first] = workersOf(crashPool);
      first.postMessage({ type: "nonsense" });
      await expect(crashPool.render(REFERENCE_512)).rejects.toThrow(/unexpected message/);
      // Killed mid-render from outside: same outcome.
      const rendering = crashPool.render(HUGE);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await workersOf(crashPool)[1].terminate();
      await expect(rendering).rejects.toThrow(/exited with code 1/);
      expect((await crashPool.render(REFERENCE_512)).iterations).toBe(12_210_239);
      expect(workersOf(crashPool)).toHaveLength(2);
    } finally {
      await crashPool.close();
    }
  });

  it("rejects unfinished renders when closed, and renders nothing after", async () => {
    const closingPool = new RenderPool({ threads: 1 });
    const outcomes = Promise.allSettled([closingPool.render(HUGE), closingPool.render(REFERENCE_512)]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closingPool.close();
    const [running, queued] = await outcomes;
    expect(running).toMatchObject({ status: "rejected", reason: { message: "RenderPool was closed" } });
    expect(queued).toMatchObject({ status: "rejected", reason: { message: "RenderPool was closed" } });
    await expect(closingPool.render(REFERENCE_512)).rejects.toThrow(/closed/);
  });

  it.runIf(existsSync("/proc/self/task"))("lowers the priority of its threads only", async () => {
    const base = getPriority();
    const niceness = Math.min(18, base + 3); // not the default (19), so the test sees it applied
    const nicePool = new RenderPool({ threads: 2, niceness });
    try {
      await nicePool.render({ ...REFERENCE_512, width: 32, height: 32 }); // threads have started
      // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value of that thread.
      const niceOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
      const nices = readdirSync("/proc/self/task").map((tid) => niceOf(readFileSync(`/proc/self/task/${tid}/stat`, "utf8")));
      expect(nices.filter((nice) => nice === niceness)).toHaveLength(2);
      expect(niceOf(readFileSync("/proc/thread-self/stat", "utf8"))).toBe(base);
      expect(getPriority()).toBe(base);
    } finally {
      await nicePool.close();
    }
  });

  it("does not keep a process alive when idle", async () => {
    // A process that renders and never closes its pool must still exit by itself.
    const script = `
      import { RenderPool } from "./lib/render/index.ts";
      const pool = new RenderPool({ threads: 2 });
      const outcome = await pool.render({ re: -0.8, im: 0.156, depth: 50, width: 64, height: 64, zoom: 1, cx: 0, cy: 0 });
      console.log(outcome.iterations);
    `;
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      timeout: 20_000,
    });
    expect(Number(stdout.trim())).toBe(computeImage({ ...REFERENCE_512, depth: 50, width: 64, height: 64 }).iterations);
  });
});

describe("RenderPool.colour", () => {
  it("colours on the threads exactly as colorize does, for every colormap, with the render's range", async () => {
    const outcome = await pool.render(REFERENCE_500x300);
    const { min, max } = outcome;
    expect([min, max]).toEqual([outcome.counts.reduce((a, b) => Math.min(a, b)), outcome.counts.reduce((a, b) => Math.max(a, b))]);
    for (const colormap of COLORMAP_NAMES) {
      const rgb = await pool.colour(outcome, REFERENCE_500x300, colormap);
      expect(Buffer.from(rgb).equals(Buffer.from(colorize(outcome.counts, colormap))), colormap).toBe(true);
    }
  });

  it("colours a flat image with the colormap's first entry, and counts that are not shared", async () => {
    const counts = new Uint32Array(40 * 20).fill(7);
    const rgb = await pool.colour({ counts, min: 7, max: 7 }, { width: 40, height: 20 }, "gnuplot");
    expect(Buffer.from(rgb).equals(Buffer.from(colorize(counts, "gnuplot")))).toBe(true);
  });

  it("does not wait for another render: threads leave it after their band to colour, then go back to it", async () => {
    const first = pool.render(REFERENCE_512);
    const controller = new AbortController();
    let hugeBands = 0;
    const huge = pool.render(HUGE, { signal: controller.signal, onProgress: () => hugeBands++ });
    let hugeSettled = false;
    void huge.then(
      () => (hugeSettled = true),
      () => (hugeSettled = true),
    );
    try {
      const outcome = await first; // both threads have moved on to the huge render (minutes of work)
      const rgb = await pool.colour(outcome, REFERENCE_512, "cubehelix");
      expect(Buffer.from(rgb).equals(Buffer.from(colorize(outcome.counts, "cubehelix")))).toBe(true);
      expect(hugeSettled).toBe(false);
      // ...and the huge render goes on: its bands keep coming.
      const bandsSoFar = hugeBands;
      await expect.poll(() => hugeBands).toBeGreaterThan(bandsSoFar);
    } finally {
      controller.abort();
    }
    await expect(huge).rejects.toMatchObject({ name: "AbortError" });
    // The pool still renders correctly afterwards.
    expect((await pool.render(REFERENCE_512)).iterations).toBe(12_210_239);
  });

  it("refuses counts of another size, and stops when its signal aborts", async () => {
    const counts = new Uint32Array(12);
    await expect(pool.colour({ counts, min: 0, max: 1 }, { width: 4, height: 4 }, "ocean")).rejects.toThrow(RangeError);
    await expect(
      pool.colour({ counts, min: 0, max: 1 }, { width: 4, height: 3 }, "ocean", { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("encodePng and renderPng", () => {
  it("encodes RGB pixels as a PNG that decodes to the same pixels", async () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 250, 251, 252, 128, 64, 32]);
    const png = await encodePng(rgb, 3, 2);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([3, 2, 3]);
    expect(Array.from(data)).toEqual(Array.from(rgb));
  });

  it("renders, colours and encodes in one call", async () => {
    const params = { ...REFERENCE_500x300, width: 50, height: 30, colormap: "terrain" as const };
    const outcome = await renderPng(pool, params);
    const { data, info } = await sharp(outcome.png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([50, 30]);
    expect(Buffer.from(data).equals(Buffer.from(colorize(computeImage(params).counts, "terrain")))).toBe(true);
    expect(Buffer.from(outcome.rgb).equals(Buffer.from(data))).toBe(true);
  });
});
