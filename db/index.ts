import { getWebEnv } from "@/lib/env";
import { createDatabase, type Database } from "./client";

export type { Database, Executor } from "./client";

// One client per web process, kept on globalThis so dev hot reloads don't leak pools.
const globalForDb = globalThis as unknown as { longrunDb?: Database };

function getDb(): Database {
  const env = getWebEnv();
  globalForDb.longrunDb ??= createDatabase(env.DATABASE_URL, {
    max: env.DATABASE_POOL_MAX,
    // Safe behind a transaction pooler (a serverless deploy's pooled URL), which cannot keep
    // prepared statements. Nothing is lost: drizzle names no statements unless told to.
    prepare: false,
    applicationName: "longrun-web",
  });
  return globalForDb.longrunDb;
}

/** The web's database. Created on first use, so importing it needs no env (next build). */
export const db: Database = new Proxy({} as Database, {
  get: (_target, property): unknown => Reflect.get(getDb(), property, getDb()),
});
