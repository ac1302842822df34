import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import autocannon from "autocannon";
import { eq, inArray } from "drizzle-orm";
import { createDatabase } from "@/db/client";
import { saveConfiguration } from "@/db/queries/configurations";
import { cancelResult } from "@/db/queries/results";
import { results, users } from "@/db/schema";
import { hashPassword } from "@/server/auth/password";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { buildWebIfNeeded, startStandaloneWeb } from "./lib/build";
import { freePort, nodeWithTsx, startService, stopService, waitForHttp, type Service } from "./lib/processes";
import { bundledWorker, isSmoke } from "./lib/smoke";
import { createMigratedDatabase, startThrowawayPostgres } from "./lib/throwaway-database";

/**
 * `npm run test:load`: the status routes and pages under load from other
 * processes, first with the worker idle, then while it renders on both cores.
 * The web (the standalone build, as production runs it), the worker (bundled, as production runs it)
 * and Postgres are the real ones.
 *
 * Two kinds of load for each route:
 * - open loop (scripts/lib/open-loop-load.ts): requests arrive at random at a
 *   steady rate, as from people whose pages poll on their own clocks; this is
 *   the latency a person's poll meets, and what the aims are about;
 * - closed loop (autocannon, 10 connections as fast as they go): the most the
 *   web answers per second, where latency is mostly queueing behind the others.
 * It reports and compares against the aims; it fails only when a request fails.
 * --smoke: each load for 1 s instead of LOAD_DURATION (10 s).
 */
const SECONDS = Number(process.env.LOAD_DURATION ?? (isSmoke ? 1 : 10));
const AIM_P99_MS = 50;

const embedded = await startThrowawayPostgres();
const services: Service[] = [];
const cleanUp = async () => {
  for (const service of services) await stopService(service);
  await embedded.stop();
};
process.on("SIGINT", () => void cleanUp().finally(() => process.exit(1)));
process.on("SIGTERM", () => void cleanUp().finally(() => process.exit(1)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signs in through next-auth's own endpoints and returns the Cookie header. */
async function signIn(base: string, email: string, password: string) {
  const csrf = await fetch(`${base}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const cookies = csrf.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
  const response = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookies.join("; ") },
    body: new URLSearchParams({ csrfToken, email, password }),
  });
  const session = response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .find((cookie) => cookie.includes("session-token"));
  if (!session) throw new Error(`sign-in failed (${response.status})`);
  return session;
}

type Latency = { rate: number; p50: number; p99: number };

async function openLoop(url: string, cookie: string, rate: number): Promise<Latency> {
  const [command, args] = nodeWithTsx("scripts/lib/open-loop-load.ts", [
    url,
    String(rate),
    String(SECONDS),
    JSON.stringify({ Cookie: cookie }),
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`open-loop load generator exited with ${code}`);
  const result = JSON.parse(output) as Latency & { non2xx: number; errors: number };
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

async function closedLoop(url: string, cookie: string): Promise<Latency> {
  const result = await autocannon({ url, connections: 10, duration: SECONDS, headers: { Cookie: cookie } });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rate: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

/** CPU seconds a process (and its threads) has used, from /proc. */
function cpuSeconds(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 a second on Linux)
}

try {
  const url = await createMigratedDatabase(embedded.url(), "load");
  const db = createDatabase(url, { max: 2, applicationName: "load" });
  const password = "load test password";
  const passwordHash = await hashPassword(password);
  const [watcher] = await db.insert(users).values({ email: "watcher@example.test", passwordHash }).returning();
  // A pro user's renders keep the worker busy: its tier may queue enough of them.
  const [renderer] = await db.insert(users).values({ email: "renderer@example.test", passwordHash, tier: "pro" }).returning();

  buildWebIfNeeded();
  const workerBundle = await bundledWorker();
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: url,
    AUTH_SECRET: randomBytes(32).toString("base64url"),
    WORKER_CONCURRENCY: "2",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  services.push(startStandaloneWeb({ port, env, hostname: "127.0.0.1" }));
  const worker = startService("worker", process.execPath, [workerBundle], env);
  services.push(worker);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/sign-in`);
  const cookie = await signIn(base, watcher.email, password);

  const watched: string[] = [];
  for (const name of ["watched 1", "watched 2", "watched 3"]) {
    const saved = await saveConfiguration(db, { ownerId: watcher.id, input: { ...DEFAULT_CONFIGURATION, name } });
    if (!saved.ok) throw new Error("save failed");
    watched.push(saved.resultId);
  }
  const firstConfiguration = (await db.select().from(results).where(eq(results.id, watched[0])))[0].configurationId;
  const statuses = async (ids: string[]) =>
    (await db.select({ status: results.status }).from(results).where(inArray(results.id, ids))).map((row) => row.status);
  while ((await statuses(watched)).some((status) => status !== "succeeded")) await sleep(100);

  const routes = [
    { label: "GET /api/configurations/:id/status", path: `/api/configurations/${firstConfiguration}/status`, rate: 100 },
    { label: "GET /api/configurations/status", path: "/api/configurations/status", rate: 100 },
    { label: "page /configurations", path: "/configurations", rate: 20 },
    { label: "page /configurations/:id", path: `/configurations/${firstConfiguration}`, rate: 20 },
  ];
  const measure = async () => {
    const cpuBefore = cpuSeconds(worker.child.pid!);
    const startedAt = Date.now();
    const measured = [];
    for (const route of routes) {
      const open = await openLoop(base + route.path, cookie, route.rate);
      const closed = await closedLoop(base + route.path, cookie);
      measured.push({ ...route, open, closed });
    }
    const workerCores = (cpuSeconds(worker.child.pid!) - cpuBefore) / ((Date.now() - startedAt) / 1000);
    return { measured, workerCores };
  };

  for (const route of routes) await closedLoop(base + route.path, cookie); // warm-up: JIT, connection pools
  const idle = await measure();

  // Long renders (c = 0: every inside point costs the full depth) keep both cores busy throughout.
  const busyRenders: string[] = [];
  for (let index = 0; index < 12; index++) {
    const input = { ...DEFAULT_CONFIGURATION, name: `busy ${index}`, re: 0, im: 0, width: 4096, height: 2048, depth: 5000 };
    const saved = await saveConfiguration(db, { ownerId: renderer.id, input });
    if (!saved.ok) throw new Error("save failed");
    busyRenders.push(saved.resultId);
  }
  while (!(await statuses(busyRenders)).includes("running")) await sleep(100);
  await sleep(1_000);
  const busy = await measure();
  const stillRendering = (await statuses(busyRenders)).includes("running");
  // Cancelled renders stop at their next progress write: the worker then stops at once, not after its shutdown grace.
  for (const resultId of busyRenders) await cancelResult(db, { resultId, ownerId: renderer.id });

  console.log(`\nEach route for ${SECONDS} s: open loop at the rate shown, then closed loop (10 connections, as fast as they go).`);
  console.log(
    `Worker CPU while measuring: idle ${idle.workerCores.toFixed(2)} cores, busy ${busy.workerCores.toFixed(2)} cores${stillRendering ? "" : " (the renders ran out before the end: queue more)"}.\n`,
  );
  const cell = (latency: Latency) => `${String(latency.p50).padStart(5)} / ${String(latency.p99).padStart(5)} ms`;
  console.log(`${"".padEnd(44)} ${"open loop p50 / p99".padEnd(42)} closed loop req/s, p50 / p99`);
  console.log(`${"".padEnd(44)} ${"idle".padEnd(18)} ${"busy".padEnd(18)} ${"ratio".padEnd(6)}`);
  const misses: string[] = [];
  idle.measured.forEach((quiet, index) => {
    const loaded = busy.measured[index];
    const ratio = loaded.open.p99 / quiet.open.p99;
    console.log(
      `${`${quiet.label} @${quiet.rate}/s`.padEnd(44)} ${cell(quiet.open).padEnd(18)} ${cell(loaded.open).padEnd(18)} ${ratio.toFixed(2).padEnd(6)}` +
        ` idle ${String(quiet.closed.rate).padStart(5)}/s ${cell(quiet.closed)}, busy ${String(loaded.closed.rate).padStart(5)}/s ${cell(loaded.closed)}`,
    );
    if (quiet.path.startsWith("/api/") && (loaded.open.p99 >= AIM_P99_MS || ratio >= 2)) misses.push(quiet.label);
  });
  console.log(
    misses.length === 0
      ? `\nAim met: status p99 under ${AIM_P99_MS} ms and under 2x idle while the worker renders.`
      : `\nAim missed (status p99 under ${AIM_P99_MS} ms and under 2x idle while rendering) by: ${misses.join(", ")}`,
  );
  await db.$client.end();
} finally {
  await cleanUp();
}
