import { createHash, randomUUID } from "node:crypto";
import { expect, test, type APIRequestContext, type APIResponse } from "@playwright/test";
import postgres from "postgres";
import { buildOpenApiDocument } from "../lib/api/openapi";
import { errorSchema, jobSchema, renderPageSchema, renderSchema, uploadPageSchema, uploadSchema } from "../lib/api/schemas";
import { assertLocalDatabase } from "./assert-local-database";
import { signUpWithToken } from "./pages/app";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

// Contract tests of the Jobs API over real HTTP against the running web and workers.
// Every JSON body is checked against the zod schema the OpenAPI document is built from.

const SMALL = { re: -0.8, im: 0.156, width: 64, height: 64, depth: 64 };
/** c = 0 at the free tier's largest size: minutes of work, so it stays unfinished until cancelled. */
const LONG = { re: 0, im: 0, width: 4096, height: 2048, depth: 5000 };
const MAX_BYTES = Number(process.env.E2E_UPLOAD_MAX_BYTES);

const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1 });
test.afterAll(() => sql.end());

const countResults = async (email: string) =>
  (
    await sql<{ count: number }[]>`select count(*)::int as count from results r join users u on u.id = r.owner_id where u.email = ${email}`
  )[0].count;
const countUploads = async (email: string) =>
  (
    await sql<{ count: number }[]>`select count(*)::int as count from uploads x join users u on u.id = x.owner_id where u.email = ${email}`
  )[0].count;

function api(request: APIRequestContext, token: string) {
  const headers = (extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...extra });
  return {
    get: (path: string) => request.get(`/api/v1${path}`, { headers: headers() }),
    delete: (path: string) => request.delete(`/api/v1${path}`, { headers: headers() }),
    post: (path: string, data: unknown, extra: Record<string, string> = {}) =>
      request.post(`/api/v1${path}`, { headers: headers({ "Content-Type": "application/json", ...extra }), data: JSON.stringify(data) }),
    upload: (name: string, bytes: Buffer, extra: Record<string, string> = {}) =>
      request.post(`/api/v1/uploads?name=${encodeURIComponent(name)}`, {
        headers: headers({ "Content-Type": "application/octet-stream", ...extra }),
        data: bytes,
      }),
  };
}
type Api = ReturnType<typeof api>;

async function expectError(response: APIResponse, status: number, code: string) {
  expect(response.status(), await response.text()).toBe(status);
  const body = errorSchema.parse(await response.json());
  expect(body.error.code).toBe(code);
  expect(response.headers()["cache-control"]).toBe("no-store");
  return body.error;
}

const FINISHED = ["succeeded", "failed", "cancelled", "superseded"];

async function waitForJob(client: Api, id: string) {
  let job = jobSchema.parse(await (await client.get(`/jobs/${id}`)).json());
  await expect
    .poll(async () => FINISHED.includes((job = jobSchema.parse(await (await client.get(`/jobs/${id}`)).json())).status), {
      timeout: 30_000,
    })
    .toBe(true);
  return job;
}

test("start a render, follow it to success, download its PNG, and page through the list", async ({ page, request }) => {
  const { token } = await signUpWithToken(page, "api-render");
  const client = api(request, token);

  const started = await client.post("/renders", { ...SMALL, name: "from a script" });
  expect(started.status()).toBe(202);
  const render = renderSchema.parse(await started.json());
  expect(started.headers().location).toBe(`/api/v1/renders/${render.id}`);
  expect(render).toMatchObject({
    status: "queued",
    configurationName: "from a script",
    params: { ...SMALL, zoom: 1, cx: 0, cy: 0, colormap: "nipy_spectral" },
  });
  expect(render.links.image).toBeNull();

  const job = await waitForJob(client, render.id);
  expect(job).toMatchObject({ kind: "render", status: "succeeded", progress: 1, links: { resource: `/api/v1/renders/${render.id}` } });
  const done = renderSchema.parse(await (await client.get(`/renders/${render.id}`)).json());
  expect(done).toMatchObject({
    status: "succeeded",
    progress: 1,
    attempts: 1,
    wallMs: expect.any(Number),
    startedAt: expect.any(String),
    finishedAt: expect.any(String),
  });
  const image = await client.get(done.links.image!.replace("/api/v1", ""));
  expect(image.headers()["content-type"]).toBe("image/png");
  expect((await image.body()).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

  // The same settings again: nothing new starts, the finished render answers (200).
  const again = await client.post("/renders", { ...SMALL, configurationId: render.configurationId });
  expect(again.status()).toBe(200);
  expect(renderSchema.parse(await again.json()).id).toBe(render.id);

  // Two more; pages of two, newest first, no render twice; filtered by status.
  const more = [];
  for (const depth of [65, 66]) more.push(renderSchema.parse(await (await client.post("/renders", { ...SMALL, depth })).json()));
  const first = renderPageSchema.parse(await (await client.get("/renders?limit=2")).json());
  expect(first.items.map((item) => item.id)).toEqual([more[1].id, more[0].id]);
  const second = renderPageSchema.parse(await (await client.get(`/renders?limit=2&cursor=${first.nextCursor}`)).json());
  expect(second).toEqual({ items: [expect.objectContaining({ id: render.id })], nextCursor: null });
  for (const other of more) await waitForJob(client, other.id);
  const succeeded = renderPageSchema.parse(await (await client.get("/renders?status=succeeded&limit=100")).json());
  expect(succeeded.items).toHaveLength(3);
  expect(renderPageSchema.parse(await (await client.get("/renders?status=failed")).json()).items).toEqual([]);
});

test("every route but the document wants a valid token: 401 with a stable code", async ({ request }) => {
  const document = buildOpenApiDocument();
  const concrete = (path: string) => path.replace("{id}", randomUUID());
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of Object.keys(item)) {
      if (path === "/openapi.json") continue;
      for (const authorization of [undefined, "Bearer nonsense", `Bearer lr_${"A".repeat(43)}`, "Basic dXNlcjpwYXNz"]) {
        const response = await request.fetch(`/api/v1${concrete(path)}`, {
          method: method.toUpperCase(),
          headers: authorization ? { Authorization: authorization } : {},
        });
        const error = await expectError(response, 401, "unauthorized");
        expect(error.message).toMatch(/token/i);
        expect(response.headers()["www-authenticate"]).toMatch(/^Bearer realm="Longrun"/);
      }
    }
  }
});

test("bad bodies and queries are 400s naming the field, and change nothing", async ({ page, request }) => {
  const { email, token } = await signUpWithToken(page, "api-invalid");
  const client = api(request, token);

  const notJson = await request.post("/api/v1/renders", {
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    data: Buffer.from("{re: 1"),
  });
  expect((await expectError(notJson, 400, "bad_request")).message).toBe("The body is not valid JSON");
  const form = await request.post("/api/v1/renders", { headers: { Authorization: `Bearer ${token}` }, form: { re: "1", im: "1" } });
  expect((await expectError(form, 400, "bad_request")).message).toMatch(/Content-Type: application\/json/);

  const cases: [unknown, string][] = [
    [{ im: 0 }, "re"],
    [{ re: "NaN", im: 0 }, "re"],
    [{ re: "1", im: 0 }, "re"],
    [{ re: 0, im: 0, width: 100_000 }, "width"],
    [{ re: 0, im: 0, depth: 1.5 }, "depth"],
    [{ re: 0, im: 0, zoom: 0 }, "zoom"],
    [{ re: 0, im: 0, colormap: "<script>" }, "colormap"],
    [{ re: 0, im: 0, name: "a\u0000b" }, "name"],
    [{ re: 0, im: 0, configurationId: "../etc/passwd" }, "configurationId"],
    [{ re: 0, im: 0, isAdmin: true }, "(body)"],
    [[SMALL], "(body)"],
  ];
  for (const [body, field] of cases) {
    const error = await expectError(await client.post("/renders", body), 400, "bad_request");
    expect(
      error.fields?.map((entry) => entry.field),
      JSON.stringify(body),
    ).toContain(field);
  }
  for (const query of ["limit=0", "limit=abc", "limit=101", "status=bogus", "cursor=not-a-cursor", `cursor=${randomUUID()}`, "unknown=1"]) {
    await expectError(await client.get(`/renders?${query}`), 400, "bad_request");
  }
  await expectError(await client.get(`/uploads?cursor=${randomUUID()}`), 400, "bad_request");
  await expectError(await client.upload("", Buffer.from("x")), 400, "bad_request");
  await expectError(await client.post("/renders", SMALL, { "Idempotency-Key": "k".repeat(256) }), 400, "bad_request");
  expect(await countResults(email)).toBe(0);
  expect(await countUploads(email)).toBe(0);
});

test("tier limits: too large a render (403) and too many unfinished ones (409); cancelling frees a place", async ({ page, request }) => {
  const { email, token } = await signUpWithToken(page, "api-limits");
  const client = api(request, token);

  const tooLarge = await expectError(await client.post("/renders", { ...SMALL, width: 4096, height: 4096 }), 403, "size_limit");
  expect(tooLarge.message).toBe("A free account renders up to 8.4 MP; this is 16.8 MP");

  const unfinished = [];
  for (const zoom of [1, 1.1, 1.2]) {
    const response = await client.post("/renders", { ...LONG, zoom });
    expect(response.status()).toBe(202);
    unfinished.push(renderSchema.parse(await response.json()));
  }
  const refused = await expectError(await client.post("/renders", SMALL), 409, "render_limit");
  expect(refused.message).toMatch(/3 renders/);
  expect(await countResults(email)).toBe(3);

  // Cancel them all: each answers the cancelled render; a second cancel is a 409.
  for (const render of unfinished) {
    const cancelled = await client.delete(`/renders/${render.id}`);
    expect(cancelled.status()).toBe(200);
    expect(renderSchema.parse(await cancelled.json())).toMatchObject({ id: render.id, status: "cancelled", message: "Cancelled" });
  }
  await expectError(await client.delete(`/renders/${unfinished[0].id}`), 409, "conflict");
  await expectError(await client.get(`/renders/${unfinished[0].id}/image`), 409, "conflict");
  expect((await client.post("/renders", SMALL)).status()).toBe(202);
});

test("Idempotency-Key: a retry gets the first answer and starts nothing; another request with the key is refused", async ({
  page,
  request,
}) => {
  const { email, token } = await signUpWithToken(page, "api-idempotency");
  const client = api(request, token);

  const key = randomUUID();
  const first = await client.post("/renders", SMALL, { "Idempotency-Key": key });
  expect(first.status()).toBe(202);
  const retried = await client.post("/renders", SMALL, { "Idempotency-Key": key });
  expect(retried.status()).toBe(202);
  expect(retried.headers()["idempotent-replayed"]).toBe("true");
  expect(retried.headers().location).toBe(first.headers().location);
  expect(await retried.json()).toEqual(await first.json());
  await expectError(await client.post("/renders", { ...SMALL, depth: 99 }, { "Idempotency-Key": key }), 422, "idempotency_key_reused");

  // Retries that race each other: one render.
  const raceKey = randomUUID();
  const raced = await Promise.all(
    Array.from({ length: 5 }, () => client.post("/renders", { ...SMALL, depth: 70 }, { "Idempotency-Key": raceKey })),
  );
  const ids = new Set(await Promise.all(raced.map(async (response) => renderSchema.parse(await response.json()).id)));
  expect(ids.size).toBe(1);
  expect(await countResults(email)).toBe(2);

  // Uploads too: the retry's bytes are not kept.
  const bytes = Buffer.from("same file twice\n");
  const uploadKey = randomUUID();
  const uploaded = uploadSchema.parse(await (await client.upload("twice.txt", bytes, { "Idempotency-Key": uploadKey })).json());
  const replayed = await client.upload("twice.txt", bytes, { "Idempotency-Key": uploadKey });
  expect(replayed.headers()["idempotent-replayed"]).toBe("true");
  expect(uploadSchema.parse(await replayed.json()).id).toBe(uploaded.id);
  expect(await countUploads(email)).toBe(1);
});

test("uploads: streamed in, processed, downloaded byte for byte, deleted; too large is a 413 that keeps nothing", async ({
  page,
  request,
}) => {
  const { email, token } = await signUpWithToken(page, "api-uploads");
  const client = api(request, token);
  const bytes = Buffer.from("name,value\nalpha,1\nbeta,2\n");

  const response = await client.upload("../data/table.csv", bytes, { "Content-Type": "text/csv" });
  expect(response.status()).toBe(202);
  const upload = uploadSchema.parse(await response.json());
  expect(response.headers().location).toBe(`/api/v1/uploads/${upload.id}`);
  expect(upload).toMatchObject({ name: "../data/table.csv", size: bytes.length, declaredType: "text/csv", status: "queued" });

  expect(await waitForJob(client, upload.id)).toMatchObject({ kind: "upload", status: "succeeded", progress: 1 });
  const processed = uploadSchema.parse(await (await client.get(`/uploads/${upload.id}`)).json());
  expect(processed).toMatchObject({ md5: createHash("md5").update(bytes).digest("hex"), detectedType: "text/csv", status: "succeeded" });
  expect(processed.steps.map((step) => step.step)).toEqual(["checksum", "type"]);
  const download = await client.get(`/uploads/${upload.id}/download`);
  expect(await download.body()).toEqual(bytes);
  expect(download.headers()["content-disposition"]).toContain("filename*=UTF-8''..%2Fdata%2Ftable.csv");
  const list = uploadPageSchema.parse(await (await client.get("/uploads")).json());
  expect(list.items.map((item) => item.id)).toEqual([upload.id]);

  await expectError(await client.upload("big.bin", Buffer.alloc(MAX_BYTES + 1)), 413, "file_too_large");
  expect(await countUploads(email)).toBe(1);

  const deleted = await client.delete(`/uploads/${upload.id}`);
  expect(deleted.status()).toBe(204);
  await expectError(await client.get(`/uploads/${upload.id}`), 404, "not_found");
  await expectError(await client.get(`/jobs/${upload.id}`), 404, "not_found");
  expect(await countUploads(email)).toBe(0);
});

test("someone else's ids are 404s on every route, and nothing of theirs changes", async ({ browser, request }) => {
  const ownerPage = await browser.newPage();
  const strangerPage = await browser.newPage();
  const owner = api(request, (await signUpWithToken(ownerPage, "api-owner")).token);
  const stranger = api(request, (await signUpWithToken(strangerPage, "api-stranger")).token);

  const render = renderSchema.parse(await (await owner.post("/renders", SMALL)).json());
  const upload = uploadSchema.parse(await (await owner.upload("mine.txt", Buffer.from("mine"))).json());
  await waitForJob(owner, render.id);
  await waitForJob(owner, upload.id);

  for (const path of [
    `/renders/${render.id}`,
    `/renders/${render.id}/image`,
    `/jobs/${render.id}`,
    `/uploads/${upload.id}`,
    `/uploads/${upload.id}/download`,
    `/jobs/${upload.id}`,
  ]) {
    const error = await expectError(await stranger.get(path), 404, "not_found");
    expect(JSON.stringify(error)).not.toContain(render.id);
  }
  await expectError(await stranger.delete(`/renders/${render.id}`), 404, "not_found");
  await expectError(await stranger.delete(`/uploads/${upload.id}`), 404, "not_found");
  await expectError(await stranger.post("/renders", { ...SMALL, depth: 80, configurationId: render.configurationId }), 404, "not_found");
  expect(renderPageSchema.parse(await (await stranger.get("/renders")).json()).items).toEqual([]);
  await expectError(await stranger.get(`/renders?cursor=${render.id}`), 400, "bad_request");

  expect(renderSchema.parse(await (await owner.get(`/renders/${render.id}`)).json())).toMatchObject({ status: "succeeded", params: SMALL });
  expect((await owner.get(`/uploads/${upload.id}/download`)).status()).toBe(200);
});

test("each token has its tier's requests a minute: then 429 with Retry-After", async ({ page, request }) => {
  test.setTimeout(180_000); // 121 requests on a busy machine
  const { token } = await signUpWithToken(page, "api-rate");
  const client = api(request, token);
  const firstResponse = await client.get("/me");
  const limit = Number(firstResponse.headers()["ratelimit-limit"]);
  expect(limit).toBe(120);
  expect(Number(firstResponse.headers()["ratelimit-remaining"])).toBe(limit - 1);
  // The rest of the minute's allowance, ten at a time: every one counted, none refused.
  for (let sent = 1; sent < limit; sent += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, limit - sent) }, () => client.get("/me")));
    expect(batch.map((response) => response.status())).toEqual(batch.map(() => 200));
  }

  const limited = await client.get("/me");
  const error = await expectError(limited, 429, "rate_limited");
  expect(error.message).toMatch(/^A free account may make 120 API requests a minute; try again in \d+ s$/);
  const retryAfter = Number(limited.headers()["retry-after"]);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(limited.headers()["ratelimit-remaining"]).toBe("0");
});

test("the OpenAPI document is served, public, and is the one built from the handlers' schemas", async ({ request }) => {
  const response = await request.get("/api/v1/openapi.json");
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toContain("application/json");
  expect(await response.json()).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
});
