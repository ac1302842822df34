import { getWebEnv } from "@/lib/env";
import { createDatabase, type Database } from "./client";

export type { Database, Executor } from "./client";

// One client per web process, kept on globalThis so dev hot reloads don't leak pools.
const globalForDb = globalThis as unknown as { longrunDb?: Database };

function getDb(): Database {
  const env = getWebEnv();
  globalForDb.longrunDb ??= createDatabase(env.DATABASE_URL, {
    max: env.DATABASE_POOL_MAX,
    prepare: env.DATABASE_PREPARED_STATEMENTS,
    applicationName: "longrun-web",
  });
  return globalForDb.longrunDb;
}

/** The web's database. Created on first use, so importing it needs no env (next build). */
export const db: Database = new Proxy({} as Database, {
  get: (_target, property) => Reflect.get(getDb(), property, getDb()),
});
