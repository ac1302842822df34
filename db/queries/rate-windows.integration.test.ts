import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { countRequest, RATE_WINDOW_SECONDS } from "./rate-windows";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});

describe("per-person rate windows", () => {
  it("counts every request of a person exactly, even all at once, each door apart, and nobody else's", async () => {
    const person = await createTestUser(test.db);
    const other = await createTestUser(test.db);
    const counted = await Promise.all(Array.from({ length: 40 }, () => countRequest(test.db, { userId: person.id, door: "api" })));
    expect(counted.map((window) => window?.requestsInWindow ?? 0).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    expect(counted[0]).toMatchObject({ tier: "free" });
    expect(await countRequest(test.db, { userId: person.id, door: "webdav" })).toMatchObject({ requestsInWindow: 1 });
    expect(await countRequest(test.db, { userId: other.id, door: "api" })).toMatchObject({ requestsInWindow: 1 });
    expect(await countRequest(test.db, { userId: person.id, door: "api" })).toMatchObject({ requestsInWindow: 41 });
  });

  it("starts a new window once the last one is a minute old, and says when the current one ends", async () => {
    const person = await createTestUser(test.db);
    const first = await countRequest(test.db, { userId: person.id, door: "api" });
    const resetsIn = new Date(first?.windowResetsAt ?? 0).getTime() - Date.now();
    expect(resetsIn).toBeGreaterThan(0);
    expect(resetsIn).toBeLessThanOrEqual(RATE_WINDOW_SECONDS * 1000);
    await countRequest(test.db, { userId: person.id, door: "api" });
    await test.db
      .update(users)
      .set({ apiWindowStartedAt: sql`now() - make_interval(secs => ${RATE_WINDOW_SECONDS + 1})` })
      .where(eq(users.id, person.id));
    expect(await countRequest(test.db, { userId: person.id, door: "api" })).toMatchObject({ requestsInWindow: 1 });
  });

  it("is null for someone who does not exist", async () => {
    expect(await countRequest(test.db, { userId: "00000000-0000-4000-8000-000000000000", door: "webdav" })).toBeNull();
  });
});
