import type { TestProject } from "vitest/node";
import postgres from "postgres";
import { getTestEnv } from "@/lib/env";
import { migrateDatabase } from "../migrate";

/**
 * Integration tests run against a real Postgres: TEST_DATABASE_URL names a
 * server (scripts/test.ts starts a throwaway one when none is given). Migrations
 * run once into a template; each test file clones it (createTestDatabase).
 */
export default async function setup(project: TestProject) {
  const serverUrl = getTestEnv().TEST_DATABASE_URL;
  const template = `longrun_template_${process.pid}`;
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop database if exists "${template}"`);
  await sql.unsafe(`create database "${template}"`);
  await migrateDatabase(withDatabase(serverUrl, template));
  project.provide("templateDatabase", template);
  return async () => {
    await sql.unsafe(`drop database if exists "${template}" with (force)`);
    await sql.end();
  };
}

export function withDatabase(serverUrl: string, database: string) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
