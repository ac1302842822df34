import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { getTestEnv } from "@/lib/env";
import { createDatabase, type Database } from "../client";
import { users } from "../schema";
import { withDatabase } from "./global-setup";

export type TestDatabase = { url: string; db: Database; drop: () => Promise<void> };

/** A fresh, migrated database for one test file, cloned from the template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = getTestEnv().TEST_DATABASE_URL;
  const name = `longrun_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}" template "${inject("templateDatabase")}"`);
  const url = withDatabase(serverUrl, name);
  const db = createDatabase(url, { max: 5, applicationName: "longrun-test" });
  return {
    url,
    db,
    drop: async () => {
      await db.$client.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

export async function createTestUser(db: Database, email = `user-${randomBytes(4).toString("hex")}@example.test`) {
  const [user] = await db.insert(users).values({ email, passwordHash: "not-a-real-hash" }).returning();
  return user;
}
