// npm run bench:colour: colouring a finished render on the calling thread (colorize, as the
// worker did) against on the render threads (RenderPool.colour, as it does now), in the same
// run. For each, the time the colouring took and the longest the calling thread's event loop
// was blocked meanwhile: that loop also writes every job's progress and heartbeat, and answers
// the worker's health checks. Runs alternate between the two ways.
import { availableParallelism } from "node:os";
import { colorize, RenderPool, type JuliaParams } from "../lib/render/index";
import { isSmoke } from "../scripts/lib/smoke";

const RUNS = isSmoke ? 1 : 7;
const SIZES: (readonly [number, number])[] = isSmoke
  ? [[256, 128]]
  : [
      [4096, 2048],
      [4096, 4096],
    ];

type Sample = { ms: number; blockedMs: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The colouring's time, and the longest gap between ticks of a 1 ms timer on the calling thread meanwhile. */
async function measure(colour: () => unknown): Promise<Sample> {
  let last = performance.now();
  let blockedMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    blockedMs = Math.max(blockedMs, now - last);
    last = now;
  }, 1);
  await sleep(5); // ticking
  blockedMs = 0;
  last = performance.now();
  const started = performance.now();
  await colour();
  const ms = performance.now() - started;
  await sleep(5); // a block that ended with the colouring is seen by the next tick
  clearInterval(ticker);
  return { ms, blockedMs };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const threads = availableParallelism();
  const pool = new RenderPool({ threads });
  console.log(`Node ${process.version}, ${threads} render threads; ${RUNS} runs each, alternating; medians.`);
  console.log("  size         way                 colouring ms   event loop blocked ms");
  try {
    for (const [width, height] of SIZES) {
      // Depth 64: a quick render whose counts spread over the whole colormap.
      const params: JuliaParams = { re: -0.8, im: 0.156, depth: 64, width, height, zoom: 1, cx: 0, cy: 0 };
      const outcome = await pool.render(params);
      const ways = {
        "calling thread": () => colorize(outcome.counts, "nipy_spectral"),
        "render threads": () => pool.colour(outcome, params, "nipy_spectral"),
      };
      const samples: Record<string, Sample[]> = { "calling thread": [], "render threads": [] };
      for (const way of Object.values(ways)) await way(); // warm-up: code compiled, threads started
      for (let run = 0; run < RUNS; run++) {
        for (const [name, way] of Object.entries(ways)) samples[name].push(await measure(way));
      }
      for (const [name, list] of Object.entries(samples)) {
        const ms = median(list.map((sample) => sample.ms));
        const blocked = median(list.map((sample) => sample.blockedMs));
        console.log(
          `  ${`${width}x${height}`.padEnd(11)}  ${name.padEnd(18)}  ${ms.toFixed(1).padStart(12)}   ${blocked.toFixed(1).padStart(21)}`,
        );
      }
      const ratio = (key: keyof Sample) =>
        (median(samples["calling thread"].map((s) => s[key])) / median(samples["render threads"].map((s) => s[key]))).toFixed(1);
      console.log(`  ${"".padEnd(11)}  calling/threads: colouring ${ratio("ms")}x, blocked ${ratio("blockedMs")}x`);
    }
  } finally {
    await pool.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
