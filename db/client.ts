import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
/** A database or a transaction: every query function takes one, so callers choose the transaction. */
export type Executor = Database | Parameters<Parameters<Database["transaction"]>[0]>[0];

/**
 * Seconds one connection attempt may take (TCP, startup, authentication), and
 * the most a query handed to a connection waits for attempts to begin (our
 * postgres.js patch, patches/README.md). The default 30 s outlasts every caller: the web answers
 * 503 after 8 s.
 */
export const CONNECT_TIMEOUT_S = 5;

/**
 * Seconds a connection waits before trying again, given the failures the pool
 * has counted since it last reached the server: 0.05, 0.1, 0.2, 0.4, 0.8, then
 * 1, each 50–100% of that. postgres.js's own grows to 10–20 s after 7 failures,
 * and a restart's dropped connections count too: a query handed to a connection
 * after Postgres was back slept out up to 20 s (bench/pg-restart.ts). With this
 * one a connection tries at least every second while Postgres is down, and the
 * first to reach it wakes the others (our patch, patches/README.md).
 */
export function reconnectBackoff(failures: number): number {
  return Math.min(0.05 * 2 ** Math.max(0, failures - 1), 1) * (0.5 + Math.random() / 2);
}

export type DatabaseOptions = {
  max: number;
  applicationName: string;
  prepare?: boolean;
  /** lock_timeout and statement_timeout of every connection (the worker's); unset: the server's (none). */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
};

export function createDatabase(url: string, options: DatabaseOptions): Database {
  const client = postgres(url, {
    max: options.max,
    prepare: options.prepare ?? true,
    idle_timeout: 30,
    connect_timeout: CONNECT_TIMEOUT_S,
    backoff: reconnectBackoff,
    // Startup parameters, so they hold from a connection's first statement. Only clients that
    // connect to Postgres itself set timeouts: PgBouncer refuses startup parameters it does not
    // track, and the web, which may connect through it, sets none.
    connection: {
      application_name: options.applicationName,
      ...(options.lockTimeoutMs !== undefined && { lock_timeout: options.lockTimeoutMs }),
      ...(options.statementTimeoutMs !== undefined && { statement_timeout: options.statementTimeoutMs }),
    },
    onnotice: () => {},
  });
  return drizzle(client, { schema });
}
