import { spawn, type ChildProcess } from "node:child_process";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveConfiguration } from "@/db/queries/configurations";
import { listJobLog } from "@/db/queries/job-logs";
import { cancelResult } from "@/db/queries/results";
import { createDatabase } from "@/db/client";
import { recoverLostWorkers, WORKER_LEASE_LOCK_CLASS } from "@/db/queries/workers";
import { results, workerHeartbeats } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { untilLeasesAreJudged, waitFor } from "@/db/test/wait-for";
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
  await untilLeasesAreJudged(test.db);
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

// Render threads run at nice 19: beside other work (npm run test:stress) a second's render takes a minute or more.
const RENDER_WAIT_MS = 240_000;

/** Waits until `lines` has a line containing `text`. */
const untilLogged = (lines: string[], text: string, timeoutMs?: number) =>
  waitFor(
    async () => lines.join(""),
    (all) => all.includes(text),
    timeoutMs,
  );

async function expectRerunBy(render: Awaited<ReturnType<typeof startRender>>, lostWorkerId: string, survivorId: string) {
  const done = await waitFor(
    () => readResult(render.resultId),
    (row) => row.status === "succeeded",
    RENDER_WAIT_MS,
  );
  expect(done).toMatchObject({ workerId: survivorId, attempts: 2, progress: 1 });
  const log = await listJobLog(test.db, { resultId: render.resultId, ownerId: render.user.id });
  expect(log?.map((line) => line.message)).toEqual([
    expect.stringMatching(new RegExp(`^Attempt 1 on ${lostWorkerId}: `)),
    `Worker ${lostWorkerId} was lost; retrying`,
    expect.stringMatching(new RegExp(`^Attempt 2 on ${survivorId}: `)),
    expect.stringMatching(/^Rendered in /),
  ]);
  expect(await test.db.select().from(results).where(eq(results.configurationId, render.configurationId))).toHaveLength(1);
  await waitFor(
    () => jobsOf(render.configurationId),
    (rows) => rows.length === 0,
    5_000,
  );
  return done;
}

// A render long enough to be caught mid-way, short enough to run again on a busy CI machine:
// c = 0 at 1024x1024, depth 1500 is about a second of rendering on an idle machine.
const SECOND_LONG_RENDER = { re: 0, im: 0, width: 1024, height: 1024, depth: 1500 };
// So long that only a lease can make these workers take each other for lost.
const NEVER_STALE = { WORKER_STALE_AFTER_MS: "600000" };

describe("workers that recover", { timeout: 2 * RENDER_WAIT_MS }, () => {
  it("a worker killed with SIGKILL is found by its free lease, not its heartbeat: a survivor re-runs its render, which leaves one result", async () => {
    const victim = spawnWorker(NEVER_STALE);
    const victimBeat = await waitFor(() => heartbeatOf(victim.child.pid!), Boolean);
    const render = await startRender(SECOND_LONG_RENDER);
    await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "running" && row.progress > 0,
      RENDER_WAIT_MS,
    );
    expect((await readResult(render.resultId)).workerId).toBe(victimBeat.id);

    victim.child.kill("SIGKILL");
    await victim.exited;
    const survivorLog: string[] = [];
    const survivor = await startWorker({
      databaseUrl: test.url,
      concurrency: 1,
      staleAfterMs: 600_000,
      log: (line) => survivorLog.push(line),
    });
    inProcess.push(survivor);

    await expectRerunBy(render, victimBeat.id, survivor.id);
    expect(survivorLog.some((line) => line.includes(`worker ${victimBeat.id} was lost`))).toBe(true);
    expect(await heartbeatOf(victim.child.pid!)).toBeUndefined();
  });

  it("a stopped worker (SIGSTOP) is taken for lost when its heartbeat goes stale; continued, it stops its render without writing anything", async () => {
    const victim = spawnWorker();
    const victimBeat = await waitFor(() => heartbeatOf(victim.child.pid!), Boolean);
    const render = await startRender(SECOND_LONG_RENDER);
    await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "running" && row.progress > 0,
      RENDER_WAIT_MS,
    );

    victim.child.kill("SIGSTOP"); // connected (its lease is held) but silent
    const survivor = await startWorker({ databaseUrl: test.url, concurrency: 1, heartbeatMs: 200, staleAfterMs: 1500, log: () => {} });
    inProcess.push(survivor);
    const done = await expectRerunBy(render, victimBeat.id, survivor.id);

    victim.child.kill("SIGCONT");
    // Its next progress write is refused: the render is attempt 2's now.
    await untilLogged(victim.output, `attempt 1 stopped: result ${render.resultId}: attempt 1 was taken over`, RENDER_WAIT_MS);
    await untilLogged(victim.output, "this worker was taken for lost");
    expect(await readResult(render.resultId)).toEqual(done); // not a byte changed
    expect(await listJobLog(test.db, { resultId: render.resultId, ownerId: render.user.id })).toHaveLength(4);
    await waitFor(
      () => heartbeatOf(victim.child.pid!),
      (row) => row?.id === victimBeat.id,
    ); // registered again, taking jobs
    expect(victim.child.exitCode).toBeNull();
  });

  it("a worker whose lease connection drops while it lives, and is swept before it takes the lease again, stops its stale render", async () => {
    const victimLog: string[] = [];
    const victim = await startWorker({ databaseUrl: test.url, concurrency: 1, staleAfterMs: 600_000, log: (line) => victimLog.push(line) });
    inProcess.push(victim);
    const [victimRow] = await test.db.select().from(workerHeartbeats).where(eq(workerHeartbeats.id, victim.id));
    const render = await startRender(SECOND_LONG_RENDER);
    await waitFor(
      () => readResult(render.resultId),
      (row) => row.status === "running" && row.progress > 0,
      RENDER_WAIT_MS,
    );

    // A network blip on the lease's connection, and a sweeper that wins the race for the freed lock: this
    // connection queues for the lock first, so it gets it the moment the victim's connection ends.
    const sweeper = createDatabase(test.url, { max: 1, applicationName: "test-sweeper" });
    try {
      // (then: drizzle's queries run once awaited or then-ed)
      const lockWait = sweeper.execute(sql`select pg_advisory_lock(${WORKER_LEASE_LOCK_CLASS}, ${victimRow.leaseKey})`).then(() => {});
      await waitFor(
        () => test.db.execute(sql`select 1 from pg_locks where locktype = 'advisory' and not granted and objid = ${victimRow.leaseKey}`),
        (rows) => rows.length === 1,
      );
      await test.db.execute(sql`
        select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and granted and classid = ${WORKER_LEASE_LOCK_CLASS} and objid = ${victimRow.leaseKey}`);
      await lockWait;
      await untilLogged(victimLog, "lost the lease connection");
      // (It may sweep an earlier test's killed worker too.)
      expect(await recoverLostWorkers(sweeper, { staleAfterMs: 600_000 })).toContainEqual(expect.objectContaining({ id: victim.id }));
    } finally {
      await sweeper.$client.end(); // the lock goes with the connection: the victim takes its lease again
    }
    const survivor = await startWorker({ databaseUrl: test.url, concurrency: 1, staleAfterMs: 600_000, log: () => {} });
    inProcess.push(survivor);
    await expectRerunBy(render, victim.id, survivor.id);
    await untilLogged(victimLog, `attempt 1 stopped: result ${render.resultId}`, RENDER_WAIT_MS);
    await untilLogged(victimLog, "this worker was taken for lost");
    await waitFor(
      () => test.db.select().from(workerHeartbeats).where(eq(workerHeartbeats.id, victim.id)),
      (rows) => rows.length === 1,
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
      RENDER_WAIT_MS,
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
