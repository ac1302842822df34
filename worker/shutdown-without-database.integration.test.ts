import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, expect, it } from "vitest";
import { createDatabase, type Database } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { saveConfiguration } from "@/db/queries/configurations";
import { listJobLog } from "@/db/queries/job-logs";
import { cancelResult } from "@/db/queries/results";
import { results, users, workerHeartbeats } from "@/db/schema";
import { fatalErrorResponse } from "@/db/test/fatal-error";
import { withDatabase } from "@/db/test/global-setup";
import { waitFor } from "@/db/test/wait-for";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/scripts/lib/embedded-postgres";
import { freePort } from "@/scripts/lib/processes";
import { startWorker } from "./start-worker";

// A worker told to stop while its database is away. These tests stop their database, so they run
// their own Postgres (as worker/database-restart.integration.test.ts does), not the shared one.
const parent = mkdtempSync(path.join(tmpdir(), "longrun-shutdown-"));
chmodSync(parent, 0o755);
const cleanUps: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanUp of cleanUps.reverse()) await cleanUp();
  rmSync(parent, { recursive: true, force: true });
});

async function startDatabase(name: string) {
  const dataDir = path.join(parent, name);
  const port = await freePort();
  const server: { current: EmbeddedPostgres } = { current: await startEmbeddedPostgres({ dataDir, port }) };
  cleanUps.push(() => server.current.stop());
  const admin = postgres(server.current.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe("create database longrun");
  await admin.end();
  const url = withDatabase(server.current.url(), "longrun");
  await migrateDatabase(url);
  const restart = async () => {
    server.current = await startEmbeddedPostgres({ dataDir, port });
  };
  return { url, server, restart };
}

function spawnWorker(databaseUrl: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", "worker/main.ts", "--concurrency", "1"], {
    env: { ...process.env, DATABASE_URL: databaseUrl, WORKER_HEARTBEAT_MS: "500", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanUps.push(() => child.kill("SIGKILL"));
  let output = "";
  child.stdout.on("data", (chunk) => (output += String(chunk)));
  child.stderr.on("data", (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const GAVE_UP =
  /the database has not answered for 5 s: gave up on graphile-worker's graceful shutdown and on removing this worker's heartbeat/;

it("a worker stopped while Postgres is stopped leaves its running render and exits 0, giving up on what needs the database; another worker takes the render up once Postgres is back", async () => {
  const { url, server, restart } = await startDatabase("pg-stopped");
  const db: Database = createDatabase(url, { max: 2, applicationName: "test" });
  cleanUps.push(() => db.$client.end({ timeout: 1 }));
  const [user] = await db.insert(users).values({ email: "shutdown@example.test", passwordHash: "x" }).returning();

  const leaving = spawnWorker(url, { WORKER_STALE_AFTER_MS: "1500" });
  // c = 0 at 1024x1024, depth 20000: over ten seconds on an idle machine, still running when the worker is told to stop.
  const saved = await saveConfiguration(db, {
    ownerId: user.id,
    input: { ...DEFAULT_CONFIGURATION, name: "long", re: 0, im: 0, width: 1024, height: 1024, depth: 20000 },
  });
  if (!saved.ok) throw new Error("save failed");
  const read = async () => (await db.select().from(results).where(eq(results.id, saved.resultId)))[0];
  const running = await waitFor(read, (row) => row.status === "running" && row.progress > 0, 60_000);

  await server.current.stop(); // fast shutdown: every connection is cut, new ones refused
  leaving.child.kill("SIGTERM");
  expect(await leaving.exited).toBe(0);
  // Before the change it waited out the 30 s grace for a render that could not be stored, then tried to hand it back.
  expect(leaving.output()).toMatch(GAVE_UP);

  await restart();
  // Its heartbeat row was left: the next worker finds it silent and puts the render back in the queue.
  expect(await db.select().from(workerHeartbeats).where(eq(workerHeartbeats.id, running.workerId!))).toHaveLength(1);
  const next = await startWorker({ databaseUrl: url, concurrency: 1, heartbeatMs: 200, staleAfterMs: 1500, log: () => {} });
  cleanUps.push(() => next.stop());
  const resumed = await waitFor(read, (row) => row.status === "running" && row.workerId === next.id, 60_000);
  expect(resumed.attempts).toBe(2);
  const log = await listJobLog(db, { resultId: saved.resultId, ownerId: user.id });
  expect(log?.map((line) => line.message)).toContain(`Worker ${running.workerId} was lost; retrying`);
  expect(await cancelResult(db, { resultId: saved.resultId, ownerId: user.id })).toEqual({ ok: true });
}, 180_000);

it("an idle worker stopped while every connection is answered 'the database system is shutting down' exits 0 (graphile-worker retried that for minutes and its shutdown waited)", async () => {
  const { url } = await startDatabase("pg-shutting-down");
  // A proxy in front of Postgres: once switched, it cuts every connection and answers each new one with
  // Postgres's own FATAL 57P03, which graphile-worker's job query retries with a backoff of 3 s and more.
  const upstream = new URL(url);
  const sockets = new Set<net.Socket>();
  let isShuttingDown = false;
  let graphileRefusals = 0; // connections of graphile-worker's pool (ours, postgres.js's, carry an application_name) answered 57P03
  const proxy = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (isShuttingDown) {
      client.once("data", (startup) => {
        if (!startup.includes("longrun-worker")) graphileRefusals += 1;
        client.end(fatalErrorResponse("57P03", "the database system is shutting down"));
      });
      return;
    }
    const server = net.connect(Number(upstream.port), upstream.hostname);
    sockets.add(server);
    server.on("close", () => sockets.delete(server));
    server.on("error", () => client.destroy());
    client.on("error", () => server.destroy());
    client.pipe(server).pipe(client);
  });
  const proxyPort = await freePort();
  await new Promise<void>((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve));
  cleanUps.push(() => {
    for (const socket of sockets) socket.destroy();
    proxy.close();
  });
  const proxied = new URL(url);
  proxied.port = String(proxyPort);

  const worker = spawnWorker(proxied.toString());
  await waitFor(
    async () => worker.output(),
    (output) => /running standard tasks/.test(output),
    60_000,
  );
  isShuttingDown = true;
  for (const socket of sockets) socket.destroy();
  // Its listener retries about 5 times in the first 10 s; one more attempt is a job query's, which then
  // retries for as long as the answer stays the same (the case that kept the worker from exiting).
  await waitFor(
    async () => graphileRefusals,
    (count) => count >= 6,
    60_000,
  );

  worker.child.kill("SIGTERM");
  expect(await worker.exited).toBe(0);
  expect(worker.output()).toMatch(GAVE_UP);
}, 120_000);
