import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase } from "@/db/client";
import { saveConfiguration } from "@/db/queries/configurations";
import { jobLogs, results, workerHeartbeats } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { untilLeasesAreJudged } from "@/db/test/wait-for";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { recoverLostWorkers, registerWorker, WORKER_LEASE_LOCK_CLASS } from "./workers";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
  await untilLeasesAreJudged(test.db);
});
afterAll(() => test?.drop());

const worker = (id: string, leaseKey: number) => ({
  id,
  poolId: `pool-${id}`,
  host: "test",
  pid: 1,
  concurrency: 1,
  tasks: ["render"],
  leaseKey,
});

it("sweepers racing each other: a worker whose lease is free is recovered exactly once, and one whose lease is held is left alone", async () => {
  const user = await createTestUser(test.db);
  const saved = await saveConfiguration(test.db, { ownerId: user.id, input: DEFAULT_CONFIGURATION });
  if (!saved.ok) throw new Error("save failed");
  await registerWorker(test.db, worker("dead", 101));
  await registerWorker(test.db, worker("alive", 102));
  await test.db.update(results).set({ status: "running", workerId: "dead", attempts: 1 }).where(eq(results.id, saved.resultId));

  // "alive" holds its lease on a connection of its own; "dead" holds none (its connection ended).
  const alive = createDatabase(test.url, { max: 1, applicationName: "test-alive" });
  try {
    await alive.execute(sql`select pg_advisory_lock(${WORKER_LEASE_LOCK_CLASS}, 102)`);
    const sweeps = await Promise.all(Array.from({ length: 8 }, () => recoverLostWorkers(test.db, { staleAfterMs: 600_000 })));
    expect(sweeps.flat().map((lost) => lost.id)).toEqual(["dead"]);
  } finally {
    await alive.$client.end();
  }
  expect((await test.db.select().from(workerHeartbeats)).map((row) => row.id)).toEqual(["alive"]);
  expect(await test.db.select().from(results).where(eq(results.id, saved.resultId))).toMatchObject([{ status: "queued", attempts: 1 }]);
  expect(await test.db.select().from(jobLogs).where(eq(jobLogs.resultId, saved.resultId))).toHaveLength(1);
});
