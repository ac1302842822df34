import { randomBytes } from "node:crypto";
import autocannon from "autocannon";
import { eq } from "drizzle-orm";
import { createDatabase } from "@/db/client";
import { saveConfiguration } from "@/db/queries/configurations";
import { results, users } from "@/db/schema";
import { hashPassword } from "@/lib/auth/password";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { buildWebIfNeeded, startStandaloneWeb } from "@/scripts/lib/build";
import { freePort, nodeWithTsx, startService, stopService, waitForHttp, type Service } from "@/scripts/lib/processes";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:status`: the status route under load from a second process
 * (autocannon, 10 connections, 10 s), first with the worker idle, then while
 * it renders on both cores. The web and the worker are the real processes.
 * Two loads each time: as fast as 10 connections go (saturation: the latency
 * is mostly queueing behind the other requests), and a steady 100 requests a
 * second (100 people watching a render, each page polling once a second),
 * which is what a person's poll meets on a busy but not overloaded server.
 */
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const STEADY_RATE = 100;

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
  const session = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]).find((cookie) => cookie.includes("session-token"));
  if (!session) throw new Error(`sign-in failed (${response.status})`);
  return session;
}

async function load(url: string, cookie: string, overallRate?: number) {
  const result = await autocannon({ url, connections: 10, duration: DURATION_S, headers: { Cookie: cookie }, ...(overallRate ? { overallRate } : {}) });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

try {
  const url = await createMigratedDatabase(embedded.url(), "bench");
  const db = createDatabase(url, { max: 2, applicationName: "bench" });
  const email = "status-bench@example.test";
  const password = "bench password";
  const [user] = await db.insert(users).values({ email, passwordHash: await hashPassword(password) }).returning();

  buildWebIfNeeded();
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: url, AUTH_SECRET: randomBytes(32).toString("base64url"), WORKER_CONCURRENCY: "2" };
  services.push(startStandaloneWeb({ port, env, hostname: "127.0.0.1" }));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/sign-in`);
  const cookie = await signIn(base, email, password);

  const shown = await saveConfiguration(db, { ownerId: user.id, input: { ...DEFAULT_CONFIGURATION, name: "watched" } });
  if (!shown.ok) throw new Error("save failed");
  services.push(startService("worker", ...nodeWithTsx("worker/main.ts"), env));
  const readStatus = async (id: string) => (await db.select().from(results).where(eq(results.id, id)))[0].status;
  while ((await readStatus(shown.resultId)) !== "succeeded") await sleep(100);
  const statusUrl = `${base}/api/configurations/${shown.configurationId}/status`;

  await load(statusUrl, cookie); // warm-up: JIT and connection pools
  const idle = await load(statusUrl, cookie);
  const idleSteady = await load(statusUrl, cookie, STEADY_RATE);
  if (process.env.BENCH_PROBE) {
    const probe = async (label: string, target: string, headers: Record<string, string>) => {
      const r = await autocannon({ url: target, connections: 1, duration: 5, headers });
      console.log(`${label.padEnd(40)} ${r.requests.average.toFixed(0)} req/s p50 ${r.latency.p50} ms (${r.non2xx} non-2xx)`);
    };
    await probe("status, 1 connection", statusUrl, { Cookie: cookie });
    await probe("status without a session (401)", statusUrl, {});
    await probe("sign-in page (static)", `${base}/sign-in`, {});
    await probe("activity, 1 connection", `${base}/api/activity?since=2020-01-01T00:00:00Z`, { Cookie: cookie });
  }

  // Two long renders (c = 0: every inside point costs the full depth) keep both cores busy.
  for (const name of ["busy 1", "busy 2"]) {
    const saved = await saveConfiguration(db, { ownerId: user.id, input: { ...DEFAULT_CONFIGURATION, name, re: 0, im: 0, width: 4096, height: 2048, depth: 5000 } });
    if (!saved.ok) throw new Error("save failed");
    while ((await readStatus(saved.resultId)) !== "running") await sleep(100);
  }
  await sleep(1_000);
  const busy = await load(statusUrl, cookie);
  const busySteady = await load(statusUrl, cookie, STEADY_RATE);

  const row = (label: string, r: autocannon.Result) =>
    console.log(`${label.padEnd(34)} ${r.requests.average.toFixed(0).padStart(6)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms`);
  console.log(`\nGET /api/configurations/:id/status, 10 connections, ${DURATION_S} s each`);
  console.log("as fast as they go:");
  row("  worker idle", idle);
  row("  worker rendering on both cores", busy);
  console.log(`  ratio busy/idle p99: ${(busy.latency.p99 / idle.latency.p99).toFixed(2)}x`);
  console.log(`a steady ${STEADY_RATE} requests a second:`);
  row("  worker idle", idleSteady);
  row("  worker rendering on both cores", busySteady);
  console.log(`  ratio busy/idle p99: ${(busySteady.latency.p99 / idleSteady.latency.p99).toFixed(2)}x`);
  await db.$client.end();
} finally {
  await cleanUp();
}
