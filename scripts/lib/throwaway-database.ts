import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { migrateDatabase } from "@/db/migrate";
import { withDatabase } from "@/db/test/global-setup";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres";
import { freePort } from "./processes";

/** A throwaway embedded Postgres in a temporary directory, on a free port; deleted when stopped. */
export async function startThrowawayPostgres(): Promise<EmbeddedPostgres> {
  const parent = mkdtempSync(path.join(tmpdir(), "longrun-"));
  chmodSync(parent, 0o755); // as root, Postgres runs as the postgres user and must reach its data
  return startEmbeddedPostgres({ dataDir: path.join(parent, "postgres"), port: await freePort(), isThrowaway: true });
}

/** Creates a database on a server and applies every migration; returns its URL. */
export async function createMigratedDatabase(serverUrl: string, name: string) {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  await migrateDatabase(url);
  return url;
}
