import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildWorkerCopy } from "@/scripts/build-worker";
import { buildWebIfNeeded, standaloneWebCommand } from "@/scripts/lib/build";
import { freePort } from "@/scripts/lib/processes";

// Real processes from the built artefacts, each given only the variables named here.
const run = promisify(execFile);
const baseEnv = { PATH: process.env.PATH ?? "", NODE_ENV: "production" as const };

/** Runs a process that should refuse to start; returns its exit code and output. */
async function failedStart(command: string, args: string[], env: NodeJS.ProcessEnv) {
  // The timeout only stops a process that wrongly keeps running.
  const outcome = await run(command, args, { env, timeout: 90_000 }).then(
    () => ({ code: 0, output: "" }),
    (error: { code?: number; killed?: boolean; stdout: string; stderr: string }) => ({
      code: error.killed ? "still running" : error.code,
      output: error.stdout + error.stderr,
    }),
  );
  return outcome;
}

let workerBundle: string;
let removeWorker: (() => void) | undefined;
beforeAll(async () => {
  buildWebIfNeeded();
  // Built outside the checkout, with only the node_modules traced into it.
  const worker = await buildWorkerCopy();
  workerBundle = worker.entry;
  removeWorker = worker.remove;
}, 600_000);
afterAll(() => removeWorker?.());

it("the built web refuses to start without AUTH_SECRET or with malformed variables, naming each", async () => {
  const { command, args, env } = standaloneWebCommand({
    port: await freePort(),
    hostname: "127.0.0.1",
    env: { ...baseEnv, DATABASE_URL: "127.0.0.1:5432/longrun", METRICS_TOKEN: "short" },
  });
  const { code, output } = await failedStart(command, args, env);
  expect(code).toBe(1);
  expect(output).toContain("Invalid environment for the web");
  expect(output).toContain("AUTH_SECRET: not set");
  expect(output).toContain("DATABASE_URL: DATABASE_URL must be a postgres:// connection URL");
  expect(output).toContain("METRICS_TOKEN: METRICS_TOKEN must be at least 16 characters");
}, 120_000);

it("the bundled worker refuses to start without DATABASE_URL or with a malformed concurrency, naming each", async () => {
  const { code, output } = await failedStart(process.execPath, [workerBundle], { ...baseEnv, WORKER_CONCURRENCY: "many" });
  expect(code).toBe(1);
  expect(output).toContain("Invalid environment for the worker");
  expect(output).toContain("DATABASE_URL: not set");
  expect(output).toMatch(/WORKER_CONCURRENCY: .*number/);
  expect(output).not.toMatch(/^\s+at /m); // the message, not a stack trace
}, 120_000);
