import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiTokens } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { authenticateApiToken, createApiToken, listApiTokens, MAX_ACTIVE_TOKENS, revokeApiToken } from "./api-tokens";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});

describe("personal API tokens", () => {
  it("keeps only a hash, authenticates its owner, and stops working once revoked (by its owner only)", async () => {
    const owner = await createTestUser(test.db);
    const stranger = await createTestUser(test.db);
    const created = await createApiToken(test.db, { ownerId: owner.id, name: "laptop" });
    if (!created.ok) throw new Error("not created");
    expect(created.token).toMatch(/^lr_[A-Za-z0-9_-]{43}$/);

    const [row] = await test.db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row.tokenHash).toBe(createHash("sha256").update(created.token).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(row.prefix).toBe(created.token.slice(0, 7));

    expect(await authenticateApiToken(test.db, created.token)).toMatchObject({ id: owner.id, email: owner.email, tier: "free" });
    expect(await authenticateApiToken(test.db, `${created.token.slice(0, -1)}x`)).toBeNull();
    expect((await listApiTokens(test.db, { ownerId: owner.id }))[0]).toMatchObject({
      name: "laptop",
      lastUsedAt: expect.any(String),
      revokedAt: null,
    });
    expect(await listApiTokens(test.db, { ownerId: stranger.id })).toEqual([]);

    expect(await revokeApiToken(test.db, { id: created.id, ownerId: stranger.id })).toBe(false);
    expect(await authenticateApiToken(test.db, created.token)).not.toBeNull();
    expect(await revokeApiToken(test.db, { id: created.id, ownerId: owner.id })).toBe(true);
    expect(await authenticateApiToken(test.db, created.token)).toBeNull();
    expect(await revokeApiToken(test.db, { id: created.id, ownerId: owner.id })).toBe(false);
  });

  it("limits how many active tokens a person holds, even when created at once", async () => {
    const owner = await createTestUser(test.db);
    const outcomes = await Promise.all(
      Array.from({ length: MAX_ACTIVE_TOKENS + 5 }, (_, i) => createApiToken(test.db, { ownerId: owner.id, name: `t${i}` })),
    );
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(MAX_ACTIVE_TOKENS);
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual(Array(5).fill({ ok: false, code: "limit" }));
  });
});
