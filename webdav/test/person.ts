import { createApiToken } from "@/db/queries/api-tokens";
import { createTestUser, type TestDatabase } from "@/db/test/database";

/** Someone who signs in to WebDAV: a user and an API token (the password). */
export type Person = { id: string; email: string; token: string };

export async function createPerson(db: TestDatabase["db"]): Promise<Person> {
  const user = await createTestUser(db);
  const created = await createApiToken(db, { ownerId: user.id, name: "webdav" });
  if (!created.ok) throw new Error("no token");
  return { id: user.id, email: user.email, token: created.token };
}
