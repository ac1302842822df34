import { Readable } from "node:stream";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { results, uploadSteps, usageDaily } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { saveConfiguration } from "./configurations";
import { storeUpload } from "./uploads";
import { getMonthlyUsage, listMonthlyUsageByUser, rollUpUsage } from "./usage";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(() => test?.drop());

/** A render that finished `daysAgo` days ago, having cost `cpuMs`. */
async function finishedRender(ownerId: string, daysAgo: number, cpuMs: number) {
  const saved = await saveConfiguration(test.db, { ownerId, input: { ...DEFAULT_CONFIGURATION, depth: 100 + cpuMs } });
  if (!saved.ok) throw new Error("save failed");
  await test.db
    .update(results)
    .set({
      status: "succeeded",
      attempts: 1,
      wallMs: cpuMs * 2,
      cpuMs,
      imageBytes: 1000,
      finishedAt: sql`now() - make_interval(days => ${daysAgo})`,
    })
    .where(eq(results.id, saved.resultId));
  return saved.resultId;
}

describe("usage roll-ups", () => {
  it("give the same figures as the live computation, and outlive the rows they came from", async () => {
    const user = await createTestUser(test.db);
    const other = await createTestUser(test.db);
    await finishedRender(user.id, 0, 100);
    const twoDaysAgo = await finishedRender(user.id, 2, 200);
    await finishedRender(user.id, 40, 400); // last month (or earlier): never in this month's figures
    await finishedRender(other.id, 1, 50);
    const upload = await storeUpload(
      test.db,
      Readable.from([Buffer.from("bytes")]),
      { ownerId: user.id, name: "a.txt", declaredType: null },
      { maxBytes: 100 },
    );
    await test.db
      .update(uploadSteps)
      .set({
        status: "succeeded",
        attempts: 1,
        wallMs: 3,
        cpuMs: 2,
        bytesRead: 5,
        bytesWritten: 0,
        finishedAt: sql`now() - interval '2 days'`,
      })
      .where(eq(uploadSteps.uploadId, upload.id));

    const live = await getMonthlyUsage(test.db, { ownerId: user.id });
    const liveEveryone = await listMonthlyUsageByUser(test.db);
    expect(live.byKind.upload).toMatchObject({ jobs: 2, cpuMs: 4, bytesRead: 10 });

    // The first roll-up covers all history, up to today.
    const days = await rollUpUsage(test.db);
    expect(days[0] <= new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10)).toBe(true);
    expect(days.at(-1)).toBe(new Date().toISOString().slice(0, 10));
    expect(await getMonthlyUsage(test.db, { ownerId: user.id })).toEqual(live);
    expect(await listMonthlyUsageByUser(test.db)).toEqual(liveEveryone);
    expect(
      (await test.db.select().from(usageDaily).where(eq(usageDaily.ownerId, user.id))).map((row) => row.cpuMs).sort((a, b) => a - b),
    ).toEqual([4, 100, 200, 400]);

    // Later roll-ups redo only today: every earlier day is final.
    expect(await rollUpUsage(test.db)).toEqual([new Date().toISOString().slice(0, 10)]);

    // Housekeeping purges the old render and the person deletes the file: the accounting stays.
    await test.db.delete(results).where(eq(results.id, twoDaysAgo));
    await test.db.delete(uploadSteps).where(eq(uploadSteps.uploadId, upload.id));
    expect(await getMonthlyUsage(test.db, { ownerId: user.id })).toEqual(live);

    // Today's jobs are counted live until the day is over.
    await finishedRender(user.id, 0, 7);
    expect((await getMonthlyUsage(test.db, { ownerId: user.id })).byKind.render.cpuMs).toBe(live.byKind.render.cpuMs + 7);
  });
});
