import { spawn } from "node:child_process";
import { eq } from "drizzle-orm";
import { createDatabase } from "@/db/client";
import { saveConfiguration } from "@/db/queries/configurations";
import { results, users, workerHeartbeats } from "@/db/schema";
import { untilLeasesAreJudged } from "@/db/test/wait-for";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { WORKER_DEFAULTS } from "@/worker/start-worker";
import { isSmoke, SMOKE_HEARTBEATS } from "@/scripts/lib/smoke";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:recovery`: a worker process running a render is lost, with a second worker process running, and
 * the bench times until the render runs again on the survivor. Two ways to be lost, in the same run:
 * - SIGKILL: the process is gone and its connections with it; its lease (worker/lease.ts) is free at once and the
 *   next sweep (every 500 ms) finds it;
 * - SIGSTOP: the process hangs, still connected, so its lease stays held: only the heartbeat finds it, once it has
 *   been silent for the stale time (15 s by default). This is also what every loss cost before the lease.
 * Default settings; graphile-worker alone keeps such a job locked for 4 hours. Each round checks that the
 * configuration has one result and that the render ran exactly twice (the lost attempt and the re-run).
 * With --smoke: one round each, and a silent worker is lost after 3 s instead of 15.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (isSmoke ? 1 : 5));
const { heartbeatMs, staleAfterMs } = isSmoke ? SMOKE_HEARTBEATS : WORKER_DEFAULTS;
const LOSSES = ["SIGKILL", "SIGSTOP"] as const;

const embedded = await startThrowawayPostgres();
const children = new Set<ReturnType<typeof spawn>>();
const cleanUp = async () => {
  for (const child of children) child.kill("SIGKILL");
  await embedded.stop();
};
process.on("SIGINT", () => void cleanUp().finally(() => process.exit(1)));
process.on("SIGTERM", () => void cleanUp().finally(() => process.exit(1)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(read: () => Promise<T>, isDone: (value: T) => boolean) {
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    await sleep(20);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

try {
  const url = await createMigratedDatabase(embedded.url(), "bench");
  const db = createDatabase(url, { max: 2, applicationName: "bench" });
  const [user] = await db.insert(users).values({ email: "bench@example.test", passwordHash: "x", tier: "pro" }).returning();

  const spawnWorker = () => {
    const child = spawn(process.execPath, ["--import", "tsx", "worker/main.ts", "--concurrency", "1"], {
      env: { ...process.env, DATABASE_URL: url, WORKER_HEARTBEAT_MS: String(heartbeatMs), WORKER_STALE_AFTER_MS: String(staleAfterMs) },
      stdio: "ignore",
    });
    children.add(child);
    return child;
  };
  const heartbeatOf = async (pid: number) => (await db.select().from(workerHeartbeats).where(eq(workerHeartbeats.pid, pid)))[0];

  // A Postgres up for less than LEASE_GRACE_AFTER_RESTART_MS does not judge leases yet; a deployed one has been up for long.
  await untilLeasesAreJudged(db);
  console.log(
    `lost worker → render running again on the survivor (heartbeat ${heartbeatMs} ms, silent worker lost after ${staleAfterMs} ms)`,
  );
  const medians: Record<(typeof LOSSES)[number], number> = { SIGKILL: 0, SIGSTOP: 0 };
  for (const loss of LOSSES) {
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = spawnWorker();
      await until(() => heartbeatOf(first.pid!), Boolean);
      // One long render (c = 0: every inside point costs the full depth); the first worker takes it.
      const saved = await saveConfiguration(db, {
        ownerId: user.id,
        input: { ...DEFAULT_CONFIGURATION, name: `${loss} ${round}`, re: 0, im: 0, width: 4096, height: 2048, depth: 5000 },
      });
      if (!saved.ok) throw new Error("save failed");
      const read = async () => (await db.select().from(results).where(eq(results.id, saved.resultId)))[0];
      await until(read, (row) => row.status === "running" && row.progress > 0);
      const second = spawnWorker();
      const secondBeat = await until(() => heartbeatOf(second.pid!), Boolean);

      first.kill(loss);
      const lostAt = performance.now();
      const rerun = await until(read, (row) => row.status === "running" && row.workerId === secondBeat.id);
      const seconds = (performance.now() - lostAt) / 1000;
      samples.push(seconds);
      const resultCount = (await db.select().from(results).where(eq(results.configurationId, saved.configurationId))).length;
      if (rerun.attempts !== 2 || resultCount !== 1)
        throw new Error(`round ${round + 1}: attempts ${rerun.attempts}, ${resultCount} results`);
      console.log(`  ${loss} round ${round + 1}: ${seconds.toFixed(2)} s`);

      // Clean slate for the next round: stop the render, then both workers.
      await db.update(results).set({ status: "cancelled" }).where(eq(results.id, saved.resultId));
      first.kill("SIGKILL");
      const exited = new Promise((resolve) => second.once("exit", resolve));
      second.kill("SIGTERM");
      await exited;
      children.clear();
      await db.delete(workerHeartbeats); // a stopped worker's row, so the next round's sweep is not this round's
    }
    medians[loss] = median(samples);
    console.log(`  ${loss}: median ${medians[loss].toFixed(2)} s, worst ${Math.max(...samples).toFixed(2)} s`);
  }
  console.log(
    `lease (SIGKILL) median ${medians.SIGKILL.toFixed(2)} s, heartbeat (SIGSTOP) median ${medians.SIGSTOP.toFixed(2)} s: ` +
      `a dead worker is found ${(medians.SIGSTOP / medians.SIGKILL).toFixed(1)}x sooner than a silent one; graphile-worker alone: 4 h`,
  );
  await db.$client.end();
} finally {
  await cleanUp();
}
