import { eq } from "drizzle-orm";
import { createApiToken } from "@/db/queries/api-tokens";
import { users } from "@/db/schema";
import { createTestUser, type TestDatabase } from "@/db/test/database";
import type { Tier } from "@/lib/tiers";

/** Someone who signs in to WebDAV: a user and an API token (the password). */
export type Person = { id: string; email: string; token: string };

/** A free account unless told; pro for tests that send more requests a minute than a free account may. */
export async function createPerson(db: TestDatabase["db"], options: { tier?: Tier } = {}): Promise<Person> {
  const user = await createTestUser(db);
  if (options.tier) await db.update(users).set({ tier: options.tier }).where(eq(users.id, user.id));
  const created = await createApiToken(db, { ownerId: user.id, name: "webdav" });
  if (!created.ok) throw new Error("no token");
  return { id: user.id, email: user.email, token: created.token };
}
