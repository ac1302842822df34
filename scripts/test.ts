import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWorkerCopy } from "./build-worker";
import { buildWebIfNeeded, copyStandaloneWeb, startStandaloneWeb } from "./lib/build";
import { playwrightFailures, vitestFailures } from "./lib/failure-summary";
import { runSmokeScripts } from "./lib/smoke";
import type { EmbeddedPostgres } from "./lib/embedded-postgres";
import { freePort, startService, stopService, waitForHttp, type Service } from "./lib/processes";
import { ensureSystemPrograms, type TestStep } from "./lib/system-programs";
import { createMigratedDatabase, startThrowawayPostgres } from "./lib/throwaway-database";

/**
 * `npm test`: lint and format checks, then unit, integration and end-to-end tests against
 * real parts, then every benchmark and load/fault suite in its smoke mode. Postgres is a
 * throwaway embedded one unless TEST_DATABASE_URL names a server (its role must be allowed
 * to create databases). The programs outside npm that the chosen steps need are checked (and
 * installed, as root on Debian) first. Exits non-zero on any failure.
 */
const STEPS: TestStep[] = ["lint", "unit", "integration", "e2e", "smoke"];
const isStep = (arg: string): arg is TestStep => (STEPS as string[]).includes(arg);
const steps = new Set(process.argv.slice(2).filter(isStep));
/** Anything else goes to Playwright: `npm test -- e2e e2e/api.spec.ts` runs one spec. */
const playwrightArgs = process.argv.slice(2).filter((arg) => !isStep(arg));
const shouldRun = (step: TestStep) => steps.size === 0 || steps.has(step);

let embedded: EmbeddedPostgres | undefined;
const E2E_METRICS_TOKEN = randomBytes(24).toString("base64url");
const E2E_UPLOAD_MAX_BYTES = 5 * 1024 * 1024;
const services: Service[] = [];
const cleanUps: (() => void)[] = [];

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  return result.status === 0;
}

const reports = mkdtempSync(join(tmpdir(), "longrun-test-reports-"));
cleanUps.push(() => rmSync(reports, { recursive: true, force: true }));
/** What each failed step's tests were, printed at the very end. */
const failureLines: string[] = [];

/** One Vitest project; its failed tests are kept for the summary. */
function runVitest(project: "unit" | "integration", env: NodeJS.ProcessEnv = process.env) {
  const jsonFile = join(reports, `${project}.json`);
  const args = [
    "node_modules/vitest/vitest.mjs",
    "run",
    "--project",
    project,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${jsonFile}`,
  ];
  const ok = run(process.execPath, args, env);
  if (!ok) failureLines.push(...vitestFailures(jsonFile).map((line) => `${project}: ${line}`));
  return ok;
}

async function serverUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  embedded = await startThrowawayPostgres();
  return embedded.url();
}

async function runEndToEnd(server: string) {
  const databaseUrl = await createMigratedDatabase(server, `longrun_e2e_${randomBytes(4).toString("hex")}`);

  const port = await freePort();
  const authSecret = randomBytes(32).toString("base64url");
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: authSecret,
    NEXT_TELEMETRY_DISABLED: "1",
    WORKER_CONCURRENCY: "2",
    METRICS_TOKEN: E2E_METRICS_TOKEN,
    // Small enough that the e2e suite can cross it quickly.
    UPLOAD_MAX_BYTES: String(E2E_UPLOAD_MAX_BYTES),
  };
  // The standalone server a container runs, copied out of the checkout as into an image:
  // the suite tests the production artefact.
  const web = copyStandaloneWeb();
  cleanUps.push(web.remove);
  services.push(startStandaloneWeb({ port, env, hostname: "127.0.0.1", dir: web.dir }));
  // The worker bundled as production and `npm start` run it, built outside the checkout with
  // only the node_modules traced into it, as the image holds it.
  const worker = await buildWorkerCopy();
  cleanUps.push(worker.remove);
  const workerBundle = worker.entry;
  services.push(startService("worker", process.execPath, [workerBundle], env));
  services.push(startService("worker:large", process.execPath, [workerBundle, "--only", "large", "--concurrency", "1"], env));
  await waitForHttp(`http://127.0.0.1:${port}/sign-in`);
  const jsonFile = join(reports, "e2e.json");
  const ok = run(process.execPath, ["node_modules/@playwright/test/cli.js", "test", "--reporter=list,json", ...playwrightArgs], {
    ...process.env,
    PLAYWRIGHT_JSON_OUTPUT_FILE: jsonFile,
    BASE_URL: `http://127.0.0.1:${port}`,
    E2E_DATABASE_URL: databaseUrl,
    E2E_METRICS_TOKEN,
    // The security specs forge an expired session cookie with it.
    E2E_AUTH_SECRET: authSecret,
    E2E_UPLOAD_MAX_BYTES: String(E2E_UPLOAD_MAX_BYTES),
  });
  if (!ok) failureLines.push(...playwrightFailures(jsonFile).map((line) => `e2e: ${line}`));
  return ok;
}

/** The fast static checks: ESLint, Prettier, and a lockfile that `npm ci` accepts. */
function runLint() {
  const checks: [string, string[]][] = [
    ["npm run lint", ["run", "--silent", "lint"]],
    ["npm run format:check", ["run", "--silent", "format:check"]],
    // Fails when package.json and the lockfile disagree, or the lockfile misses a platform's build.
    ["npm ci --dry-run", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"]],
  ];
  let ok = true;
  for (const [name, args] of checks) {
    if (!run("npm", args)) {
      failureLines.push(`lint: ${name} failed`);
      ok = false;
    }
  }
  return ok;
}

async function main() {
  ensureSystemPrograms(STEPS.filter(shouldRun));
  const failed: string[] = [];
  if (shouldRun("lint") && !runLint()) failed.push("lint");
  if (shouldRun("unit") && !runVitest("unit")) failed.push("unit");

  if (shouldRun("integration") || shouldRun("e2e")) {
    // The built web serves the e2e suite, and an integration test restarts Postgres under it.
    buildWebIfNeeded();
    const server = await serverUrl();
    if (shouldRun("integration")) {
      if (!runVitest("integration", { ...process.env, TEST_DATABASE_URL: server })) failed.push("integration");
    }
    if (shouldRun("e2e") && !(await runEndToEnd(server))) failed.push("e2e");
  }
  // The smoke scripts start their own; the e2e servers would only take their cores.
  await cleanUp();
  // Every benchmark and fault script, once with tiny sizes: each starts its own Postgres, web and workers.
  if (shouldRun("smoke")) {
    const smokeFailures = await runSmokeScripts();
    failureLines.push(...smokeFailures.map((line) => `smoke: ${line}`));
    if (smokeFailures.length > 0) failed.push("smoke");
  }
  return failed;
}

/** Stops what the steps started; safe to call again. */
async function cleanUp() {
  for (const service of services.splice(0)) await stopService(service);
  for (const cleanUp of cleanUps.splice(0)) cleanUp();
  await embedded?.stop();
  embedded = undefined;
}

// Postgres runs detached (pg_ctl): stop it even when the run is interrupted.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping test servers`);
    void cleanUp().finally(() => process.exit(1));
  });
}

main()
  .then(async (failed) => {
    await cleanUp();
    if (failed.length > 0) {
      for (const line of failureLines) console.error(`✗ ${line}`);
      console.error(`\nFailed: ${failed.join(", ")}`);
      process.exit(1);
    }
    console.log("\nAll test suites passed.");
  })
  .catch(async (error) => {
    console.error(error);
    await cleanUp();
    process.exit(1);
  });
