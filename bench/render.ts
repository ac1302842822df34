// npm run bench:render: how fast the renderer is, on one thread and on every core,
// next to a plain C implementation of the same loop (bench/julia.c, built here with
// gcc -O2 -ffp-contract=off -pthread into bench/.out/), and next to the same C
// iterating two pixels side by side as the JS kernel does ("C pairs"): the honest
// comparison of the languages. Each case runs a few times
// (JS after a warm-up run), alternating JS and C; best and median are printed, and the sums must agree everywhere.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { availableParallelism, cpus, getPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { RenderPool, type JuliaParams } from "../lib/render/index";
import { isSmoke } from "../scripts/lib/smoke";

const RUNS = isSmoke ? 1 : 5;
const CASES: { name: string; params: JuliaParams }[] = isSmoke
  ? [{ name: "128x128 depth 64 (smoke)", params: { re: -0.8, im: 0.156, depth: 64, width: 128, height: 128, zoom: 1, cx: 0, cy: 0 } }]
  : [
      { name: "512x512 depth 256", params: { re: -0.8, im: 0.156, depth: 256, width: 512, height: 512, zoom: 1, cx: 0, cy: 0 } },
      { name: "2048x2048 depth 1000", params: { re: -0.8, im: 0.156, depth: 1000, width: 2048, height: 2048, zoom: 1, cx: 0, cy: 0 } },
    ];

type Timing = { label: string; threads: number; sum: number; ms: number[] };

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return { best: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
}

/** Builds bench/julia.c; undefined (with the reason printed) when there is no compiler. */
function buildC(): { binary: string; compiler: string } | undefined {
  const binary = here("./.out/julia");
  mkdirSync(here("./.out"), { recursive: true });
  for (const compiler of ["gcc", "cc"]) {
    const probe = spawnSync(compiler, ["--version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) continue;
    execFileSync(compiler, ["-O2", "-ffp-contract=off", "-pthread", "-o", binary, here("./julia.c")], { stdio: "inherit" });
    return { binary, compiler: probe.stdout.split("\n")[0] };
  }
  console.log("No C compiler (gcc or cc) found: skipping the comparison with C.");
  return undefined;
}

/** One run of the C program: its sum and the milliseconds it measured around the render. */
function runC(binary: string, threads: number, params: JuliaParams, isPairs: boolean): { sum: number; ms: number } {
  const { width, height, depth, re, im, zoom, cx, cy } = params;
  const args = [width, height, depth, re, im, zoom, cx, cy, threads, 1].map(String);
  const output = execFileSync(binary, isPairs ? [...args, "pairs"] : args, { encoding: "utf8" });
  const [sum, ms] = output.trim().split(" ").map(Number);
  return { sum, ms };
}

/** JS and C runs alternate, so that both see the same background load. */
async function timeCase(threads: number, params: JuliaParams, cBinary: string | undefined): Promise<Timing[]> {
  // Same priority as the C program (the pool would lower its threads' by default).
  const pool = new RenderPool({ threads, niceness: getPriority() });
  try {
    await pool.render(params); // warm-up: threads start and the kernel gets compiled
    const js: Timing = { label: "JS", threads, sum: 0, ms: [] };
    const cs: Timing[] = cBinary ? ["C", "C pairs"].map((label) => ({ label, threads, sum: 0, ms: [] })) : [];
    for (let run = 0; run < RUNS; run++) {
      const outcome = await pool.render(params);
      js.ms.push(outcome.wallMs);
      js.sum = outcome.iterations;
      for (const c of cs) {
        const { sum, ms } = runC(cBinary!, threads, params, c.label === "C pairs");
        if (c.ms.length > 0 && sum !== c.sum) throw new Error(`${c.label} runs disagree on the sum: ${sum} != ${c.sum}`);
        c.ms.push(ms);
        c.sum = sum;
      }
    }
    return [js, ...cs];
  } finally {
    await pool.close();
  }
}

function report(name: string, timings: Timing[]) {
  console.log(`\n${name}`);
  console.log("  impl     threads      best ms    median ms   Giter/s (best)   sum of counts");
  for (const timing of timings) {
    const { best, median } = stats(timing.ms);
    const rate = timing.sum / (best / 1000) / 1e9;
    console.log(
      `  ${timing.label.padEnd(7)}  ${String(timing.threads).padStart(7)}  ${best.toFixed(1).padStart(11)}  ${median.toFixed(1).padStart(11)}` +
        `  ${rate.toFixed(3).padStart(15)}   ${timing.sum}`,
    );
  }
  const sums = new Set(timings.map((timing) => timing.sum));
  if (sums.size !== 1) {
    console.log(`  MISMATCH: the sums differ (${[...sums].join(", ")})`);
    process.exitCode = 1;
  }
  for (const threads of new Set(timings.map((timing) => timing.threads))) {
    const js = timings.find((timing) => timing.label === "JS" && timing.threads === threads);
    for (const c of timings.filter((timing) => timing.label !== "JS" && timing.threads === threads)) {
      if (!js) continue;
      const ratio = (which: "best" | "median") => (stats(js.ms)[which] / stats(c.ms)[which]).toFixed(2);
      const label = `JS/${c.label} time, ${threads} thread${threads === 1 ? "" : "s"}:`;
      console.log(`  ${label.padEnd(30)} ${ratio("best")} (best), ${ratio("median")} (median)`);
    }
  }
}

async function main() {
  const cores = availableParallelism();
  const c = buildC();
  console.log(`Node ${process.version}, ${cores} cores (${cpus()[0]?.model ?? "unknown CPU"})${c ? `, ${c.compiler}` : ""}`);
  console.log(`Each case: ${RUNS} timed runs, JS and C alternating; times are of the render alone (threads already started).`);
  const threadCounts = cores > 1 ? [1, cores] : [1];
  for (const { name, params } of CASES) {
    const timings: Timing[] = [];
    for (const threads of threadCounts) timings.push(...(await timeCase(threads, params, c?.binary)));
    report(name, timings);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
