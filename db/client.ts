import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
/** A database or a transaction: every query function takes one, so callers choose the transaction. */
export type Executor = Database | Parameters<Parameters<Database["transaction"]>[0]>[0];

export function createDatabase(url: string, options: { max: number; applicationName: string; prepare?: boolean }): Database {
  const client = postgres(url, {
    max: options.max,
    prepare: options.prepare ?? true,
    idle_timeout: 30,
    connection: { application_name: options.applicationName },
    onnotice: () => {},
  });
  return drizzle(client, { schema });
}
