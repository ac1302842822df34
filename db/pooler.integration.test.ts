import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { renderJobKey } from "@/jobs/payloads";
import { getTestEnv } from "@/lib/env";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { createDatabase } from "./client";
import { getConfigurationStatus, saveConfiguration } from "./queries/configurations";
import { createTestDatabase, createTestUser, type TestDatabase } from "./test/database";
import { startTransactionPooler } from "./test/pgbouncer";

// A serverless web's database: a pooled URL in front of Postgres (PgBouncer in transaction mode).
let test: TestDatabase;
let pooler: Awaited<ReturnType<typeof startTransactionPooler>>;
beforeAll(async () => {
  test = await createTestDatabase();
  pooler = await startTransactionPooler(getTestEnv().TEST_DATABASE_URL, { serverConnections: 2 });
});
afterAll(async () => {
  await pooler?.stop();
  await test?.drop();
});

it("the web's saves and status reads work through a transaction pooler: each save commits its result and its job", async () => {
  const owners = await Promise.all(Array.from({ length: 12 }, () => createTestUser(test.db)));
  // Built as db/index.ts builds the web's client; six client connections share two server connections.
  const database = new URL(test.url).pathname.slice(1);
  const web = createDatabase(pooler.url(database), { max: 6, prepare: false, applicationName: "longrun-web" });
  try {
    const saved = await Promise.all(
      owners.map((owner, index) =>
        saveConfiguration(web, { ownerId: owner.id, input: { ...DEFAULT_CONFIGURATION, name: `pooled ${index}` } }),
      ),
    );
    expect(saved).toEqual(Array(12).fill(expect.objectContaining({ ok: true, isNewRender: true })));
    for (const [index, save] of saved.entries()) {
      if (!save.ok) continue;
      const status = await getConfigurationStatus(web, { id: save.configurationId, ownerId: owners[index].id });
      expect(status).toMatchObject({ current: { id: save.resultId, status: "queued" } });
      const [job] = await test.db.execute(sql`select 1 from graphile_worker.jobs where key = ${renderJobKey(save.configurationId)}`);
      expect(job).toBeDefined();
    }
  } finally {
    await web.$client.end({ timeout: 5 });
  }
});
