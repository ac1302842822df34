import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";

/** The web's own client (db/index.ts), kept on globalThis. */
export type WebDatabase = { $client: { end: (options: { timeout: number }) => Promise<void> } };

/**
 * For tests that call the web's route code directly: a test database that the web's own client (db/index.ts)
 * reaches through DATABASE_URL, with AUTH_SECRET and any other variables given set; the client ends and the
 * database goes after the file. `test` is set once the file's beforeAll hooks have run.
 */
export function useWebTestDatabase(env: Record<string, string> = {}) {
  const web = { authSecret: randomBytes(32).toString("base64url"), test: undefined as unknown as TestDatabase };
  beforeAll(async () => {
    web.test = await createTestDatabase();
    Object.assign(process.env, { DATABASE_URL: web.test.url, AUTH_SECRET: web.authSecret, ...env });
  });
  afterAll(async () => {
    await (globalThis as { longrunDb?: WebDatabase }).longrunDb?.$client.end({ timeout: 0 });
    await web.test?.drop();
  });
  return web;
}
