import { expect, test } from "@playwright/test";

test("the health route answers without a session when the web reaches its database", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  expect(response.headers()["cache-control"]).toBe("no-store");
  expect(await response.json()).toEqual({ status: "ok", database: "ok", databaseMs: expect.any(Number) });
});
