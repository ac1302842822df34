import { spawn } from "node:child_process";
import { eq } from "drizzle-orm";
import { createDatabase } from "@/db/client";
import { saveConfiguration } from "@/db/queries/configurations";
import { results, users, workerHeartbeats } from "@/db/schema";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { WORKER_DEFAULTS } from "@/worker/start-worker";
import { isSmoke, SMOKE_HEARTBEATS } from "@/scripts/lib/smoke";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:recovery`: SIGKILL a worker process mid-render, with a
 * second worker process running, and time until the render runs again on the
 * survivor. Default heartbeat settings (beat 5 s, lost after 15 s); the
 * alternative, graphile-worker alone, keeps the job locked for 4 hours.
 * With --smoke: one round, and a worker is lost after 3 s instead of 15.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (isSmoke ? 1 : 3));
const { heartbeatMs, staleAfterMs } = isSmoke ? SMOKE_HEARTBEATS : WORKER_DEFAULTS;

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

  console.log(`SIGKILL → render running again on the surviving worker (heartbeat ${heartbeatMs} ms, lost after ${staleAfterMs} ms)`);
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const first = spawnWorker();
    await until(() => heartbeatOf(first.pid!), Boolean);
    // One long render (c = 0: every inside point costs the full depth); the first worker takes it.
    const saved = await saveConfiguration(db, {
      ownerId: user.id,
      input: { ...DEFAULT_CONFIGURATION, name: `round ${round}`, re: 0, im: 0, width: 4096, height: 2048, depth: 5000 },
    });
    if (!saved.ok) throw new Error("save failed");
    const read = async () => (await db.select().from(results).where(eq(results.id, saved.resultId)))[0];
    const running = await until(read, (row) => row.status === "running" && row.progress > 0);
    const second = spawnWorker();
    const secondBeat = await until(() => heartbeatOf(second.pid!), Boolean);

    first.kill("SIGKILL");
    const killedAt = performance.now();
    await until(read, (row) => row.status === "running" && row.workerId === secondBeat.id);
    const seconds = (performance.now() - killedAt) / 1000;
    samples.push(seconds);
    console.log(`  round ${round + 1}: ${seconds.toFixed(1)} s (first run by ${running.workerId})`);

    // Clean slate for the next round: stop the render, then the survivor (gracefully).
    await db.update(results).set({ status: "cancelled" }).where(eq(results.id, saved.resultId));
    const exited = new Promise((resolve) => second.once("exit", resolve));
    second.kill("SIGTERM");
    await exited;
    children.clear();
    await db.delete(workerHeartbeats); // the killed worker's row, so the next round's sweep is not this round's
  }
  samples.sort((a, b) => a - b);
  console.log(
    `median ${samples[Math.floor(samples.length / 2)].toFixed(1)} s, worst ${samples.at(-1)!.toFixed(1)} s (graphile-worker alone: 4 h)`,
  );
  await db.$client.end();
} finally {
  await cleanUp();
}
