import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveConfiguration } from "@/db/queries/configurations";
import { getSchedule, removeSchedule, saveSchedule } from "@/db/queries/schedules";
import { results, schedules } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { nextRunAt } from "@/lib/schedules";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { enqueue } from "./enqueue";

let test: TestDatabase;
let worker: RunningWorker;

beforeAll(async () => {
  test = await createTestDatabase();
  worker = await startWorker({ databaseUrl: test.url, concurrency: 2, renderThreads: 1, log: () => {} });
});
afterAll(async () => {
  await worker?.stop();
  await test?.drop();
});

async function renderedConfiguration(ownerId: string) {
  const saved = await saveConfiguration(test.db, { ownerId, input: { ...DEFAULT_CONFIGURATION, width: 64, height: 64 } });
  if (!saved.ok) throw new Error("save failed");
  await waitFor(
    () => test.db.select().from(results).where(eq(results.id, saved.resultId)),
    ([row]) => row.status === "succeeded",
  );
  return saved.configurationId;
}

const resultsOf = (configurationId: string) => test.db.select().from(results).where(eq(results.configurationId, configurationId));
/** What the crontab does every minute, without waiting for the minute. */
const runSchedulesNow = () => enqueue(test.db, "run_schedules", {});
const makeDue = (configurationId: string) =>
  test.db
    .update(schedules)
    .set({ nextRunAt: sql`now() - interval '1 second'` })
    .where(eq(schedules.configurationId, configurationId));

describe("scheduled renders", () => {
  it("renders a configuration again when its schedule is due, even with unchanged settings, and computes the next run", async () => {
    const user = await createTestUser(test.db);
    const configurationId = await renderedConfiguration(user.id);
    const [original] = await resultsOf(configurationId);
    const input = { repeat: "daily", time: "07:30", timeZone: "Europe/Paris" } as const;
    const saved = await saveSchedule(test.db, { configurationId, ownerId: user.id, input });
    expect(saved).toMatchObject({ ok: true, schedule: { repeat: "daily", nextRunAt: nextRunAt(input)!.toISOString() } });

    await makeDue(configurationId);
    await runSchedulesNow();
    const schedule = await waitFor(
      () => getSchedule(test.db, { configurationId, ownerId: user.id }),
      (row) => row?.lastRunAt !== null,
    );
    const rendered = await resultsOf(configurationId);
    expect(rendered).toHaveLength(2);
    const fresh = rendered.find((row) => row.id !== original.id)!;
    expect(schedule?.lastResultId).toBe(fresh.id);
    expect(fresh.paramsHash).toBe(original.paramsHash); // the same settings, rendered again
    expect(new Date(schedule!.nextRunAt!).getTime()).toBeGreaterThan(Date.now());
    expect(schedule?.nextRunAt).toBe(nextRunAt(input)!.toISOString());
    await waitFor(
      () => resultsOf(configurationId),
      (rows) => rows.every((row) => row.status === "succeeded"),
    );

    // Nothing is due any more: another tick adds nothing.
    await runSchedulesNow();
    await waitFor(
      () => test.db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`),
      ([row]) => row.count === 0,
    );
    expect(await resultsOf(configurationId)).toHaveLength(2);
  });

  it("runs a one-off schedule once, then has no next run", async () => {
    const user = await createTestUser(test.db);
    const configurationId = await renderedConfiguration(user.id);
    // Scheduled an hour ago for two minutes ago: due now.
    const at = new Date(Date.now() - 120_000).toISOString();
    const input = { repeat: "once", date: at.slice(0, 10), time: at.slice(11, 16), timeZone: "UTC" } as const;
    const saved = await saveSchedule(test.db, { configurationId, ownerId: user.id, input, now: new Date(Date.now() - 3_600_000) });
    expect(saved.ok).toBe(true);
    await runSchedulesNow();
    const schedule = await waitFor(
      () => getSchedule(test.db, { configurationId, ownerId: user.id }),
      (row) => row?.lastRunAt !== null,
    );
    expect(schedule).toMatchObject({ nextRunAt: null, lastMessage: null });
    expect(await resultsOf(configurationId)).toHaveLength(2);
  });

  it("refuses times that have passed and other people's configurations; only the owner removes a schedule", async () => {
    const owner = await createTestUser(test.db);
    const stranger = await createTestUser(test.db);
    const configurationId = await renderedConfiguration(owner.id);
    const daily = { repeat: "daily", time: "07:30", timeZone: "UTC" } as const;
    expect(await saveSchedule(test.db, { configurationId, ownerId: stranger.id, input: daily })).toEqual({ ok: false, code: "not_found" });
    expect(
      await saveSchedule(test.db, {
        configurationId,
        ownerId: owner.id,
        input: { repeat: "once", date: "2020-01-01", time: "07:30", timeZone: "UTC" },
      }),
    ).toEqual({
      ok: false,
      code: "in_the_past",
    });
    expect((await saveSchedule(test.db, { configurationId, ownerId: owner.id, input: daily })).ok).toBe(true);
    expect(await getSchedule(test.db, { configurationId, ownerId: stranger.id })).toBeNull();
    expect(await removeSchedule(test.db, { configurationId, ownerId: stranger.id })).toBe(false);
    expect(await removeSchedule(test.db, { configurationId, ownerId: owner.id })).toBe(true);
    expect(await getSchedule(test.db, { configurationId, ownerId: owner.id })).toBeNull();
  });
});
