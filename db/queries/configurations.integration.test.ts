import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderJobKey } from "@/jobs/payloads";
import { DEFAULT_CONFIGURATION, type ConfigurationInput } from "@/lib/validation/configuration";
import { TIER_LIMITS } from "@/lib/tiers";
import { configurations, results, users } from "../schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "../test/database";
import { getConfigurationStatus, saveConfiguration } from "./configurations";
import { claimRender, rerankQueuedRenders } from "./render-jobs";
import { cancelResult } from "./results";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(() => test?.drop());

const input = (overrides: Partial<ConfigurationInput> = {}): ConfigurationInput => ({ ...DEFAULT_CONFIGURATION, ...overrides });

// The public jobs view has no payload column; tests read the table behind it.
async function jobsFor(configurationId: string) {
  return test.db.execute<{ id: string; payload: { resultId: string }; key: string | null }>(
    sql`select id, payload, key from graphile_worker._private_jobs where key = ${renderJobKey(configurationId)}`,
  );
}

async function countRows(ownerId: string) {
  const [row] = await test.db.execute<{ configurations: number; results: number; jobs: number }>(sql`
    select (select count(*)::int from configurations where owner_id = ${ownerId}) as configurations,
           (select count(*)::int from results where owner_id = ${ownerId}) as results,
           (select count(*)::int from graphile_worker._private_jobs j
              where j.payload->>'resultId' in (select id::text from results where owner_id = ${ownerId})) as jobs`);
  return row;
}

describe("saveConfiguration", () => {
  it("commits the configuration, a queued result and its render job together", async () => {
    const user = await createTestUser(test.db);
    const saved = await saveConfiguration(test.db, { ownerId: user.id, input: input({ name: "One" }) });
    expect(saved.ok).toBe(true);
    if (!saved.ok) return;

    const [result] = await test.db.select().from(results).where(eq(results.id, saved.resultId));
    expect(result).toMatchObject({ status: "queued", ownerId: user.id, configurationId: saved.configurationId });
    const { name: _name, ...params } = DEFAULT_CONFIGURATION;
    expect(result.params).toEqual(params);
    const jobs = await jobsFor(saved.configurationId);
    expect(jobs.map((job) => job.payload)).toEqual([{ resultId: saved.resultId }]);
    const [configuration] = await test.db.select().from(configurations).where(eq(configurations.id, saved.configurationId));
    expect(configuration.currentResultId).toBe(saved.resultId);
  });

  it("leaves nothing behind when the surrounding transaction fails after the save", async () => {
    const user = await createTestUser(test.db);
    await expect(
      test.db.transaction(async (tx) => {
        await saveConfiguration(tx, { ownerId: user.id, input: input() });
        throw new Error("fail on purpose after enqueue");
      }),
    ).rejects.toThrow("fail on purpose");
    expect(await countRows(user.id)).toEqual({ configurations: 0, results: 0, jobs: 0 });
  });

  it("leaves no configuration or result when adding the job fails", async () => {
    const user = await createTestUser(test.db);
    // A real failure inside graphile_worker.add_job, for this user's jobs only.
    await test.db.execute(
      sql.raw(`
      create function fail_add_job() returns trigger language plpgsql as $$
      begin raise exception 'add_job failed on purpose'; end $$;
      create trigger fail_add_job before insert on graphile_worker._private_jobs
        for each row execute function fail_add_job();`),
    );
    try {
      const error = await saveConfiguration(test.db, { ownerId: user.id, input: input() }).catch((caught: Error) => caught);
      expect((error as Error & { cause?: Error }).cause?.message).toBe("add_job failed on purpose");
    } finally {
      await test.db.execute(sql.raw(`drop trigger fail_add_job on graphile_worker._private_jobs; drop function fail_add_job();`));
    }
    expect(await countRows(user.id)).toEqual({ configurations: 0, results: 0, jobs: 0 });
  });

  it("supersedes a queued render: one job, carrying the newest result", async () => {
    const user = await createTestUser(test.db);
    const first = await saveConfiguration(test.db, { ownerId: user.id, input: input({ re: -0.7 }) });
    if (!first.ok) throw new Error("save failed");
    const second = await saveConfiguration(test.db, {
      ownerId: user.id,
      configurationId: first.configurationId,
      input: input({ re: -0.75 }),
    });
    if (!second.ok) throw new Error("save failed");

    expect(second.resultId).not.toBe(first.resultId);
    const [old] = await test.db.select().from(results).where(eq(results.id, first.resultId));
    expect(old.status).toBe("superseded");
    const jobs = await jobsFor(first.configurationId);
    expect(jobs.map((job) => job.payload)).toEqual([{ resultId: second.resultId }]);
  });

  it("adds nothing when the parameters did not change (even if the name did)", async () => {
    const user = await createTestUser(test.db);
    const first = await saveConfiguration(test.db, { ownerId: user.id, input: input({ name: "Before" }) });
    if (!first.ok) throw new Error("save failed");
    const again = await saveConfiguration(test.db, {
      ownerId: user.id,
      configurationId: first.configurationId,
      input: input({ name: "After" }),
    });
    expect(again).toMatchObject({ ok: true, resultId: first.resultId, isNewRender: false });
    expect(await countRows(user.id)).toEqual({ configurations: 1, results: 1, jobs: 1 });
    const [configuration] = await test.db.select().from(configurations).where(eq(configurations.id, first.configurationId));
    expect(configuration.name).toBe("After");
  });

  it("going back to rendered settings reuses that picture and drops the unfinished one", async () => {
    const user = await createTestUser(test.db);
    const a = await saveConfiguration(test.db, { ownerId: user.id, input: input({ depth: 100 }) });
    if (!a.ok) throw new Error("save failed");
    await test.db.update(results).set({ status: "succeeded", finishedAt: new Date() }).where(eq(results.id, a.resultId));
    const b = await saveConfiguration(test.db, { ownerId: user.id, configurationId: a.configurationId, input: input({ depth: 200 }) });
    if (!b.ok) throw new Error("save failed");
    const backToA = await saveConfiguration(test.db, {
      ownerId: user.id,
      configurationId: a.configurationId,
      input: input({ depth: 100 }),
    });
    expect(backToA).toMatchObject({ ok: true, resultId: a.resultId, isNewRender: false });
    const [bRow] = await test.db.select().from(results).where(eq(results.id, b.resultId));
    expect(bRow.status).toBe("superseded");
    expect(await jobsFor(a.configurationId)).toHaveLength(0);
  });

  it("refuses someone else's configuration and changes nothing", async () => {
    const owner = await createTestUser(test.db);
    const intruder = await createTestUser(test.db);
    const saved = await saveConfiguration(test.db, { ownerId: owner.id, input: input({ name: "Mine" }) });
    if (!saved.ok) throw new Error("save failed");

    const attempt = await saveConfiguration(test.db, {
      ownerId: intruder.id,
      configurationId: saved.configurationId,
      input: input({ name: "Stolen", re: 0.1 }),
    });
    expect(attempt).toEqual({ ok: false, code: "not_found" });
    expect(await getConfigurationStatus(test.db, { id: saved.configurationId, ownerId: intruder.id })).toBeNull();
    expect(await cancelResult(test.db, { resultId: saved.resultId, ownerId: intruder.id })).toEqual({ ok: false, code: "not_found" });
    expect(await countRows(intruder.id)).toEqual({ configurations: 0, results: 0, jobs: 0 });
    const [configuration] = await test.db.select().from(configurations).where(eq(configurations.id, saved.configurationId));
    expect(configuration.name).toBe("Mine");
    const [result] = await test.db.select().from(results).where(eq(results.id, saved.resultId));
    expect(result.status).toBe("queued");
  });
});

describe("cancelResult", () => {
  it("cancels a queued render and removes its job", async () => {
    const user = await createTestUser(test.db);
    const saved = await saveConfiguration(test.db, { ownerId: user.id, input: input() });
    if (!saved.ok) throw new Error("save failed");
    expect(await cancelResult(test.db, { resultId: saved.resultId, ownerId: user.id })).toEqual({ ok: true });
    expect(await jobsFor(saved.configurationId)).toHaveLength(0);
    const status = await getConfigurationStatus(test.db, { id: saved.configurationId, ownerId: user.id });
    expect(status?.current?.status).toBe("cancelled");
    expect(await cancelResult(test.db, { resultId: saved.resultId, ownerId: user.id })).toEqual({
      ok: false,
      code: "already_finished",
      status: "cancelled",
    });
  });
});

describe("quality of service", () => {
  async function jobOf(configurationId: string) {
    const [job] = await test.db.execute<{ task_identifier: string; priority: number }>(
      sql`select task_identifier, priority from graphile_worker.jobs where key = ${renderJobKey(configurationId)}`,
    );
    return job;
  }

  it("refuses a render larger than the tier allows, and writes nothing", async () => {
    const free = await createTestUser(test.db);
    const refused = await saveConfiguration(test.db, { ownerId: free.id, input: input({ width: 4096, height: 4096 }) });
    expect(refused).toEqual({ ok: false, code: "size_limit", message: "A free account renders up to 8.4 MP; this is 16.8 MP" });
    expect(await countRows(free.id)).toEqual({ configurations: 0, results: 0, jobs: 0 });

    const pro = await createTestUser(test.db);
    await test.db.update(users).set({ tier: "pro" }).where(eq(users.id, pro.id));
    expect(await saveConfiguration(test.db, { ownerId: pro.id, input: input({ width: 4096, height: 4096 }) })).toMatchObject({ ok: true });
  });

  it("limits unfinished renders per person; re-saving one of them still works", async () => {
    const user = await createTestUser(test.db);
    const saved = [];
    for (let i = 0; i < TIER_LIMITS.free.maxUnfinishedRenders; i++) {
      saved.push(await saveConfiguration(test.db, { ownerId: user.id, input: input({ name: `n${i}` }) }));
    }
    const refused = await saveConfiguration(test.db, { ownerId: user.id, input: input({ name: "one too many" }) });
    expect(refused).toMatchObject({ ok: false, code: "render_limit" });
    expect(await countRows(user.id)).toEqual({ configurations: 3, results: 3, jobs: 3 });

    const first = saved[0];
    if (!first.ok) throw new Error("save failed");
    const edited = await saveConfiguration(test.db, {
      ownerId: user.id,
      configurationId: first.configurationId,
      input: input({ re: -0.5 }),
    });
    expect(edited).toMatchObject({ ok: true, isNewRender: true });
  });

  it("runs pro work first and pushes a person's extra renders behind others'", async () => {
    const free = await createTestUser(test.db);
    const pro = await createTestUser(test.db);
    await test.db.update(users).set({ tier: "pro" }).where(eq(users.id, pro.id));
    const freeFirst = await saveConfiguration(test.db, { ownerId: free.id, input: input() });
    const freeSecond = await saveConfiguration(test.db, { ownerId: free.id, input: input() });
    const proFirst = await saveConfiguration(test.db, { ownerId: pro.id, input: input() });
    if (!freeFirst.ok || !freeSecond.ok || !proFirst.ok) throw new Error("save failed");

    const priorities = await Promise.all([proFirst, freeFirst, freeSecond].map(async (s) => (await jobOf(s.configurationId)).priority));
    expect(priorities).toEqual([TIER_LIMITS.pro.basePriority, TIER_LIMITS.free.basePriority, TIER_LIMITS.free.basePriority + 1]);
  });

  it("moves a person's queue up when one of their renders settles, so shares stay even between people", async () => {
    const busy = await createTestUser(test.db);
    const patient = await createTestUser(test.db);
    const busyRenders: Extract<Awaited<ReturnType<typeof saveConfiguration>>, { ok: true }>[] = [];
    for (let index = 0; index < 3; index++) {
      const saved = await saveConfiguration(test.db, { ownerId: busy.id, input: input() });
      if (!saved.ok) throw new Error("save failed");
      busyRenders.push(saved);
    }
    const base = TIER_LIMITS.free.basePriority;
    const priorities = async () => Promise.all(busyRenders.slice(1).map(async (s) => (await jobOf(s.configurationId)).priority));
    expect(await priorities()).toEqual([base + 1, base + 2]);

    // The first starts; the others keep their place.
    const [first] = busyRenders;
    await claimRender(test.db, { resultId: first.resultId, workerId: "test" });
    await rerankQueuedRenders(test.db, busy.id);
    expect(await priorities()).toEqual([base + 1, base + 2]);

    // Someone who saves now, with nothing running, goes before the busy person's second render.
    const patientFirst = await saveConfiguration(test.db, { ownerId: patient.id, input: input() });
    if (!patientFirst.ok) throw new Error("save failed");
    expect((await jobOf(patientFirst.configurationId)).priority).toBe(base);

    // When the first ends (here: cancelled while running), the busy person's queue moves up by one.
    expect(await cancelResult(test.db, { resultId: first.resultId, ownerId: busy.id })).toEqual({ ok: true });
    expect(await priorities()).toEqual([base, base + 1]);
    // A cancelled queued render also moves the ones behind it up.
    expect(await cancelResult(test.db, { resultId: busyRenders[1].resultId, ownerId: busy.id })).toEqual({ ok: true });
    expect((await jobOf(busyRenders[2].configurationId)).priority).toBe(base);
  });

  it("sends renders above the size threshold to the large queue", async () => {
    const user = await createTestUser(test.db);
    const small = await saveConfiguration(test.db, {
      ownerId: user.id,
      input: input({ width: 64, height: 64 }),
      largeRenderPixels: 64 * 64,
    });
    const large = await saveConfiguration(test.db, {
      ownerId: user.id,
      input: input({ width: 65, height: 64 }),
      largeRenderPixels: 64 * 64,
    });
    if (!small.ok || !large.ok) throw new Error("save failed");
    expect((await jobOf(small.configurationId)).task_identifier).toBe("render");
    expect((await jobOf(large.configurationId)).task_identifier).toBe("render_large");
  });
});
