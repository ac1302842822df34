import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { stripVTControlCharacters } from "node:util";

/**
 * Smoke mode: every benchmark and fault script takes `--smoke`, which runs its
 * whole code path once with tiny sizes and prints its figures as a full run
 * does. `npm test` runs them all (its "smoke" step) so that none of them rots
 * unnoticed; the figures of a smoke run mean nothing and are never judged.
 */
export const isSmoke = process.argv.includes("--smoke");

/** Heartbeats for the worker processes of a smoke run: a killed worker is found lost after 3 s instead of 15. */
export const SMOKE_HEARTBEATS = { heartbeatMs: 500, staleAfterMs: 3_000 };

/** Set by runSmokeScripts: the worker bundle it built once for every script that runs one. */
const SMOKE_WORKER_BUNDLE = "LONGRUN_SMOKE_WORKER_BUNDLE";

/**
 * The bundled worker (`npm run build:worker`), built here; in a smoke run under
 * `npm test`, the one its runner built (the same build, made once instead of per script).
 */
export async function bundledWorker(outDir?: string): Promise<string> {
  const prebuilt = process.env[SMOKE_WORKER_BUNDLE];
  if (isSmoke && prebuilt) return prebuilt;
  const { buildWorker } = await import("../build-worker");
  return buildWorker(outDir);
}

/** Each script, and a line of its report that shows it got to its figures. */
const SMOKE_SCRIPTS: { script: string; figures: RegExp }[] = [
  { script: "bench:render", figures: /^ {2}JS +1 +\d+\.\d/m },
  { script: "bench:colour", figures: /^ +calling\/threads: colouring \S+x, blocked \S+x$/m },
  { script: "bench:jobs", figures: /^ {2}app \/ alone: \S+x$/m },
  { script: "bench:recovery", figures: /^lease \(SIGKILL\) median \d+\.\d+ s, heartbeat \(SIGSTOP\) median \d+\.\d+ s/m },
  { script: "bench:pg-restart", figures: /^no answer within 60 s: \d+$/m },
  { script: "bench:uploads", figures: /^ {2}same steps in a plain loop, no queue or database +\d+ files\/s/m },
  { script: "bench:types", figures: /^overall: \d+\/\d+ agree exactly \(\d+\.\d %\)$/m },
  { script: "bench:save", figures: /^ {2}ratio save click\/status fetch p50: /m },
  { script: "test:load", figures: /^Aim (met|missed)/m },
  { script: "test:faults", figures: /^✓ every job accounted for/m },
];

/**
 * Runs every script in smoke mode, one after the other (each starts its own
 * Postgres, web and workers), through npm as a person would. Returns one line
 * per script that failed: a non-zero exit, or its figures missing.
 */
export async function runSmokeScripts(): Promise<string[]> {
  const { buildWorker } = await import("../build-worker");
  const env = { ...process.env, [SMOKE_WORKER_BUNDLE]: await buildWorker() };
  const failures: string[] = [];
  for (const { script, figures } of SMOKE_SCRIPTS) {
    console.log(`\n▶ npm run ${script} -- --smoke`);
    const startedAt = performance.now();
    const { code, output } = await runTeed("npm", ["run", "--silent", script, "--", "--smoke"], env);
    console.log(`◀ ${script} --smoke: exit code ${code}, ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    if (code !== 0) failures.push(`${script} --smoke: exit code ${code}`);
    else if (!figures.test(stripVTControlCharacters(output)))
      failures.push(`${script} --smoke: ended without its figures (no line matching ${figures})`);
  }
  return failures;
}

/** A child process whose output goes to ours as it comes; its standard output is also kept. */
function runTeed(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
