import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, type Database } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { saveConfiguration } from "@/db/queries/configurations";
import { results, users, workerHeartbeats } from "@/db/schema";
import { withDatabase } from "@/db/test/global-setup";
import { waitFor } from "@/db/test/wait-for";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/scripts/lib/embedded-postgres";
import { buildWebIfNeeded, startStandaloneWeb } from "@/scripts/lib/build";
import { freePort, stopService, waitForHttp } from "@/scripts/lib/processes";

// This test restarts its database, so it runs its own Postgres, not the shared one.
const parent = mkdtempSync(path.join(tmpdir(), "longrun-restart-"));
chmodSync(parent, 0o755);
const dataDir = path.join(parent, "pg");
let server: EmbeddedPostgres | undefined;
const cleanUps: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanUp of cleanUps.reverse()) await cleanUp();
  await server?.stop();
  rmSync(parent, { recursive: true, force: true });
});

// npm test builds the web before this phase; run alone, this builds it if a source changed.
beforeAll(() => buildWebIfNeeded(), 600_000);

const health = async (base: string) => {
  const response = await fetch(`${base}/api/health`);
  return { status: response.status, body: (await response.json()) as { status: string } };
};

it("the worker and the web survive a Postgres restart: both health checks answer 503 while it is down and 200 after, and the worker goes on taking jobs", async () => {
  const port = await freePort();
  server = await startEmbeddedPostgres({ dataDir, port });
  const admin = postgres(server.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe("create database longrun");
  await admin.end();
  const url = withDatabase(server.url(), "longrun");
  await migrateDatabase(url);

  // Built as db/index.ts builds the web's client: saving after the restart goes through it again.
  const db: Database = createDatabase(url, { max: 2, applicationName: "test" });
  cleanUps.push(() => db.$client.end({ timeout: 1 }));
  const [user] = await db.insert(users).values({ email: "restart@example.test", passwordHash: "x" }).returning();
  const render = async (name: string) => {
    const saved = await saveConfiguration(db, { ownerId: user.id, input: { ...DEFAULT_CONFIGURATION, name, width: 64, height: 64 } });
    if (!saved.ok) throw new Error("save failed");
    const read = async () => (await db.select().from(results).where(eq(results.id, saved.resultId)))[0];
    return waitFor(read, (row) => row.status === "succeeded", 60_000);
  };

  const workerPort = await freePort();
  const workerHealth = async () => {
    const response = await fetch(`http://127.0.0.1:${workerPort}/health`);
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const worker = spawn(process.execPath, ["--import", "tsx", "worker/main.ts"], {
    env: { ...process.env, DATABASE_URL: url, WORKER_HEARTBEAT_MS: "500", WORKER_METRICS_PORT: String(workerPort) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanUps.push(() => worker.kill("SIGKILL"));
  const output: string[] = [];
  worker.stdout.on("data", (chunk) => output.push(String(chunk)));
  worker.stderr.on("data", (chunk) => output.push(String(chunk)));

  // The built web, as `npm start` and a container run it.
  const webPort = await freePort();
  const web = startStandaloneWeb({
    port: webPort,
    hostname: "127.0.0.1",
    env: { ...process.env, DATABASE_URL: url, AUTH_SECRET: "database-restart-test-secret-of-enough-length" },
  });
  cleanUps.push(() => stopService(web));
  const base = `http://127.0.0.1:${webPort}`;
  await waitForHttp(`${base}/api/health`);
  expect(await health(base)).toEqual({ status: 200, body: expect.objectContaining({ status: "ok" }) });

  const before = await render("before").catch((error: Error) => {
    throw new Error(`${error.message}\nworker output:\n${output.join("").slice(-3000)}`);
  });
  expect(before.status).toBe("succeeded");
  expect(await workerHealth()).toEqual({ status: 200, body: { ok: true, heartbeat: "fresh", database: "ok" } });

  await server.stop(); // fast shutdown: every connection is cut
  expect(await health(base)).toEqual({ status: 503, body: { status: "unavailable", database: "unreachable" } });
  expect(await workerHealth()).toMatchObject({ status: 503, body: { ok: false, database: "unreachable" } });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  server = await startEmbeddedPostgres({ dataDir, port, isThrowaway: true }); // removed when stopped
  await waitFor(
    () => health(base),
    (answer) => answer.status === 200,
    30_000,
  );
  await waitFor(workerHealth, (answer) => answer.status === 200, 30_000);

  const after = await render("after").catch((error: Error) => {
    throw new Error(`${error.message}\nworker output:\n${output.join("").slice(-3000)}`);
  });
  expect(after.status).toBe("succeeded");
  expect(worker.exitCode).toBeNull(); // still the same process
  expect(web.child.exitCode).toBeNull();
  expect(output.join("")).toMatch(/heartbeat failed|connection/i); // it did notice
}, 120_000);

it("a render that ends while Postgres is down is finished after the restart: the worker replaces graphile-worker's runner, whose pool gave up with the job locked", async () => {
  const port = await freePort();
  let busyServer = await startEmbeddedPostgres({ dataDir: path.join(parent, "pg-busy"), port });
  cleanUps.push(() => busyServer.stop());
  const admin = postgres(busyServer.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe("create database longrun");
  await admin.end();
  const url = withDatabase(busyServer.url(), "longrun");
  await migrateDatabase(url);
  const db: Database = createDatabase(url, { max: 2, applicationName: "test" });
  cleanUps.push(() => db.$client.end({ timeout: 1 }));
  const [user] = await db.insert(users).values({ email: "busy-restart@example.test", passwordHash: "x" }).returning();

  const worker = spawn(process.execPath, ["--import", "tsx", "worker/main.ts", "--concurrency", "1"], {
    env: { ...process.env, DATABASE_URL: url, WORKER_HEARTBEAT_MS: "500" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanUps.push(() => worker.kill("SIGKILL"));
  let output = "";
  worker.stdout.on("data", (chunk) => (output += String(chunk)));
  worker.stderr.on("data", (chunk) => (output += String(chunk)));

  // A render of about two seconds (c = 0: every inside point costs the full depth), far longer than stopping Postgres
  // takes. Its threads run at nice 19: beside other work (npm run test:stress) it takes minutes, hence the long waits.
  const saved = await saveConfiguration(db, {
    ownerId: user.id,
    input: { ...DEFAULT_CONFIGURATION, name: "busy", re: 0, im: 0, width: 1024, height: 1024, depth: 2000 },
  });
  if (!saved.ok) throw new Error("save failed");
  const read = async () => (await db.select().from(results).where(eq(results.id, saved.resultId)))[0];
  await waitFor(read, (row) => row.status === "running", 60_000);
  // The pool running the render: the one that gives up below.
  const [{ poolId: firstPoolId }] = await db.select({ poolId: workerHeartbeats.poolId }).from(workerHeartbeats);

  // Down until the render has ended (it could not store its picture) and graphile-worker's pool gave up.
  await busyServer.stop();
  // (graphile-worker's own messages: without our replacement of its runner, the job would stay locked and the render "running".)
  const hasGivenUp = (text: string) => /Attempt 1 failed/.test(text) && /Failed to (fail|complete) jobs|Runner stopping/.test(text);
  await waitFor(async () => output, hasGivenUp, 600_000).catch((error: Error) => {
    throw new Error(`${error.message}\nworker output:\n${output.slice(-3000)}`);
  });
  busyServer = await startEmbeddedPostgres({ dataDir: path.join(parent, "pg-busy"), port });

  const done = await waitFor(read, (row) => row.status === "succeeded", 600_000).catch((error: Error) => {
    throw new Error(`${error.message}\nworker output:\n${output.slice(-3000)}`);
  });
  expect(done.imageSha256).toBeTruthy();
  expect(output).toMatch(/runner replaced/);
  // Nothing is left locked by the pool that gave up (the new pool may be running crontab jobs; the heartbeat records
  // its id at its next beat once the lease is taken again, which may come after the render is done).
  const lockedByOldPool = await db.execute<{ count: number }>(
    sql`select count(*)::int as count from graphile_worker.jobs where locked_at is not null and locked_by = ${firstPoolId}`,
  );
  expect(lockedByOldPool[0].count).toBe(0);
  expect(worker.exitCode).toBeNull(); // the same process throughout
}, 1_300_000);
