import { spawn, type ChildProcess } from "node:child_process";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveConfiguration } from "@/db/queries/configurations";
import { listJobLog } from "@/db/queries/job-logs";
import { cancelResult } from "@/db/queries/results";
import { results, workerHeartbeats } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { renderJobKey } from "@/jobs/payloads";
import { DEFAULT_CONFIGURATION, type ConfigurationInput } from "@/lib/validation/configuration";
import { startWorker, type RunningWorker } from "./start-worker";

// Real worker processes, killed for real. Short heartbeats keep the test quick.
const HEARTBEAT = { WORKER_HEARTBEAT_MS: "200", WORKER_STALE_AFTER_MS: "1500" };

let test: TestDatabase;
const children: ChildProcess[] = [];
const inProcess: RunningWorker[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const worker of inProcess.splice(0)) await worker.stop();
});
afterAll(() => test?.drop());

function spawnWorker(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", "worker/main.ts"], {
    env: { ...process.env, DATABASE_URL: test.url, WORKER_CONCURRENCY: "1", RENDER_THREADS: "2", ...HEARTBEAT, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout.on("data", (chunk) => output.push(String(chunk)));
  child.stderr.on("data", (chunk) => output.push(String(chunk)));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited };
}

const readResult = async (id: string) => (await test.db.select().from(results).where(eq(results.id, id)))[0];
const heartbeatOf = async (pid: number) => (await test.db.select().from(workerHeartbeats).where(eq(workerHeartbeats.pid, pid)))[0];
const jobsOf = (configurationId: string) =>
  test.db.execute<{ attempts: number; locked_at: string | null; run_at: string }>(
    sql`select attempts, locked_at, run_at from graphile_worker.jobs where key = ${renderJobKey(configurationId)}`,
  );

async function startRender(overrides: Partial<ConfigurationInput>) {
  const user = await createTestUser(test.db);
  const saved = await saveConfiguration(test.db, { ownerId: user.id, input: { ...DEFAULT_CONFIGURATION, ...overrides } });
  if (!saved.ok) throw new Error("save failed");
  return { user, ...saved };
}

describe("workers that recover", () => {
  it("a surviving worker releases the jobs of a worker killed with SIGKILL, and the re-run leaves one result", async () => {
    const victim = spawnWorker();
    const victimBeat = await waitFor(() => heartbeatOf(victim.child.pid!), Boolean);
    // c = 0 at 1024x1024, depth 1500: about a second of rendering on an idle machine,
    // long enough to be killed mid-render, short enough to re-run on a busy CI machine.
    const render = await startRender({ re: 0, im: 0, width: 1024, height: 1024, depth: 1500 });
    await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "running" && row.progress > 0,
    );
    expect((await readResult(render.resultId)).workerId).toBe(victimBeat.id);

    victim.child.kill("SIGKILL");
    await victim.exited;
    const survivorLog: string[] = [];
    const survivor = await startWorker({
      databaseUrl: test.url,
      concurrency: 1,
      heartbeatMs: 200,
      staleAfterMs: 1500,
      log: (line) => survivorLog.push(line),
    });
    inProcess.push(survivor);

    const done = await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "succeeded",
      50_000,
    );
    expect(done).toMatchObject({ workerId: survivor.id, attempts: 2, progress: 1 });
    expect(survivorLog.some((line) => line.includes(`worker ${victimBeat.id} stopped beating`))).toBe(true);
    const log = await listJobLog(test.db, { resultId: render.resultId, ownerId: render.user.id });
    expect(log?.map((line) => line.message)).toEqual([
      expect.stringMatching(new RegExp(`^Attempt 1 on ${victimBeat.id}: `)),
      `Worker ${victimBeat.id} was lost; retrying`,
      expect.stringMatching(new RegExp(`^Attempt 2 on ${survivor.id}: `)),
      expect.stringMatching(/^Rendered in /),
    ]);
    expect(await heartbeatOf(victim.child.pid!)).toBeUndefined();
    expect(await test.db.select().from(results).where(eq(results.configurationId, render.configurationId))).toHaveLength(1);
    await waitFor(
      () => jobsOf(render.configurationId),
      (rows) => rows.length === 0,
      5_000,
    );
  });

  it("SIGTERM lets the running render go after the grace period and hands it back, ready at once", async () => {
    const leaving = spawnWorker({ WORKER_SHUTDOWN_GRACE_MS: "300" });
    await waitFor(() => heartbeatOf(leaving.child.pid!), Boolean);
    // c = 0 at 4096x2048, depth 5000: about half a minute, far longer than the grace period.
    const render = await startRender({ re: 0, im: 0, width: 4096, height: 2048, depth: 5000 });
    await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "running" && row.progress > 0,
    );

    leaving.child.kill("SIGTERM");
    expect(await leaving.exited).toBe(0);
    const handedBack = await readResult(render.resultId);
    expect(handedBack).toMatchObject({ status: "queued", message: "Interrupted by a worker shutdown; waiting for a worker" });
    // A fresh job: no attempt spent, no retry backoff.
    const [job] = await jobsOf(render.configurationId);
    expect(job).toMatchObject({ attempts: 0, locked_at: null });
    expect(new Date(job.run_at).getTime()).toBeLessThanOrEqual(Date.now());
    expect(await heartbeatOf(leaving.child.pid!)).toBeUndefined();

    // Another worker takes it up.
    const next = await startWorker({ databaseUrl: test.url, concurrency: 1, log: () => {} });
    inProcess.push(next);
    const resumed = await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "running" && row.workerId === next.id,
    );
    expect(resumed.attempts).toBe(2); // the result's attempts: one interrupted, one resumed
    expect(await cancelResult(test.db, { resultId: render.resultId, ownerId: render.user.id })).toEqual({ ok: true });
  });
});
