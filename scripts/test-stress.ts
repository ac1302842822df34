import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { buildWebIfNeeded } from "./lib/build";
import { ensureSystemPrograms, findSystemProgram } from "./lib/system-programs";
import { startThrowawayPostgres } from "./lib/throwaway-database";

/**
 * `npm run test:stress [-- --runs N] [files…]`: the integration step N times in a row (20 by default) while
 * `stress --cpu <cores>` keeps every core busy beside it, as another test run on the same machine would. Stops at the
 * first failing run (fast-check prints its seed). Not part of `npm test`: at 20 runs it takes hours. Files narrow
 * it as Vitest's filters do: `npm run test:stress -- --runs 5 webdav/`.
 */
const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: "string", default: "20" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive whole number, got ${values.runs}`);
  process.exit(2);
}

ensureSystemPrograms(["integration", "stress"]);
buildWebIfNeeded(); // an integration test restarts Postgres under the built web
const postgres = await startThrowawayPostgres();
const cores = availableParallelism();
const stress = spawn(findSystemProgram("stress")!, ["--cpu", String(cores)], { stdio: "ignore" });
const stopAll = async () => {
  stress.kill("SIGKILL");
  await postgres.stop();
};
process.on("SIGINT", () => void stopAll().finally(() => process.exit(130)));

let passed = 0;
try {
  for (let run = 1; run <= runs; run++) {
    const startedAt = performance.now();
    const result = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--project", "integration", ...positionals], {
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, TEST_DATABASE_URL: postgres.url() },
    });
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(0);
    if (result.status !== 0) {
      console.log(result.stdout);
      console.log(`run ${run}: FAILED after ${seconds} s (output above)`);
      break;
    }
    passed += 1;
    const summary = /Tests\s+(.*)/.exec(result.stdout.replace(/\x1b\[[0-9;]*m/g, ""))?.[1] ?? "";
    console.log(`run ${run}: passed in ${seconds} s (${summary.trim()})`);
  }
} finally {
  await stopAll();
}
console.log(`${passed}/${runs} runs of the integration step passed in a row beside stress --cpu ${cores}`);
process.exit(passed === runs ? 0 : 1);
