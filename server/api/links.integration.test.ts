/**
 * The Jobs API's contract for its links: every link in every response is a route the token
 * that got the response may fetch, answering 200 with the right content type. Real route
 * handlers, a real token, a real Postgres and a real worker that renders and makes thumbnails.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/db/queries/api-tokens";
import { getRender } from "@/db/queries/results";
import { createTestUser } from "@/db/test/database";
import { useWebTestDatabase } from "@/server/test/web-test-database";
import { waitFor } from "@/db/test/wait-for";
import { waitForProcessedUpload } from "@/jobs/test/processed-upload";
import { jobSchema, renderSchema, uploadSchema } from "@/lib/api/schemas";
import { startWorker, type RunningWorker } from "@/worker/start-worker";

type RouteModule = Partial<
  Record<"GET" | "POST" | "DELETE", (request: Request, context: { params: Promise<unknown> }) => Promise<Response>>
>;

const web = useWebTestDatabase();
let worker: RunningWorker;

// After the database's hooks (Vitest runs afterAll hooks in reverse): the worker stops before the database goes.
beforeAll(async () => {
  worker = await startWorker({ databaseUrl: web.test.url, concurrency: 4, renderThreads: 1, log: () => {} });
});
afterAll(() => worker?.stop());

/** The route files under app/api/v1, as Next matches them: `[id]` is one path segment. */
const API_DIR = path.join(process.cwd(), "app/api/v1");
const routes = readdirSync(API_DIR, { recursive: true, encoding: "utf8" })
  .filter((file) => path.basename(file) === "route.ts")
  .map((file) => {
    const segments = path
      .dirname(file)
      .split(path.sep)
      .filter((segment) => segment !== ".");
    const names = segments.filter((segment) => /^\[\w+\]$/.test(segment)).map((segment) => segment.slice(1, -1));
    const pattern = segments.map((segment) => (/^\[\w+\]$/.test(segment) ? "([^/]+)" : segment.replace(/\./g, "\\."))).join("/");
    return { file: path.join(API_DIR, file), names, regex: new RegExp(`^/api/v1/${pattern}$`) };
  });

/** Calls the route handler a path names, as Next would; a path no handler matches fails the test. */
async function call(method: "GET" | "POST", url: string, init: { token: string; body?: BodyInit; headers?: Record<string, string> }) {
  const { pathname } = new URL(url, "http://127.0.0.1");
  const route = routes.find((candidate) => candidate.regex.test(pathname));
  if (!route) throw new Error(`no Jobs API route answers ${pathname}`);
  const handler = ((await import(route.file)) as RouteModule)[method];
  if (!handler) throw new Error(`${pathname} has no ${method}`);
  const values = route.regex.exec(pathname)!.slice(1);
  const params = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(values[index])]));
  const request = new Request(new URL(url, "http://127.0.0.1"), {
    method,
    body: init.body,
    headers: { authorization: `Bearer ${init.token}`, ...init.headers },
  });
  return handler(request, { params: Promise.resolve(params) });
}

async function json(response: Response, status = 200) {
  expect(response.status, await response.clone().text()).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json\b/);
  return (await response.json()) as unknown;
}

type Link = { name: string; url: string; owner: Record<string, unknown> };
/** Every non-null entry of every `links` object anywhere in a response. */
function linksIn(value: unknown): Link[] {
  if (Array.isArray(value)) return value.flatMap(linksIn);
  if (!value || typeof value !== "object") return [];
  const object = value as Record<string, unknown>;
  const own = Object.entries((object.links as Record<string, unknown> | undefined) ?? {})
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .map(([name, url]) => ({ name, url, owner: object }));
  return [...own, ...Object.entries(object).flatMap(([key, child]) => (key === "links" ? [] : linksIn(child)))];
}

async function newToken() {
  const owner = await createTestUser(web.test.db);
  const created = await createApiToken(web.test.db, { ownerId: owner.id, name: `links ${randomBytes(3).toString("hex")}` });
  if (!created.ok) throw new Error("no token");
  return { owner, token: created.token };
}

describe("the Jobs API's links", () => {
  it("are each fetchable with the token that got them: 200, with the content type the link promises", async () => {
    const { owner, token } = await newToken();
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();

    const startedRender = (await json(
      await call("POST", "/api/v1/renders", {
        token,
        body: JSON.stringify({ re: -0.8, im: 0.156, width: 32, height: 24, depth: 32 }),
        headers: { "content-type": "application/json" },
      }),
      202,
    )) as { id: string };
    const image = (await json(
      await call("POST", "/api/v1/uploads?name=picture.png", { token, body: png, headers: { "content-type": "image/png" } }),
      202,
    )) as { id: string };
    const notes = (await json(
      await call("POST", "/api/v1/uploads?name=notes.txt", { token, body: "plain words\n", headers: { "content-type": "text/plain" } }),
      202,
    )) as { id: string };
    const postResponses = [startedRender, image, notes];

    await waitFor(
      () => getRender(web.test.db, { id: startedRender.id, ownerId: owner.id }),
      (render) => render?.status === "succeeded",
    );
    const processedImage = await waitForProcessedUpload(web.test.db, owner.id, image.id);
    expect(processedImage.thumbnailSha256).not.toBeNull();
    await waitForProcessedUpload(web.test.db, owner.id, notes.id);

    const responses: unknown[] = [...postResponses];
    for (const url of [
      "/api/v1/me",
      "/api/v1/renders",
      `/api/v1/renders/${startedRender.id}`,
      "/api/v1/uploads",
      `/api/v1/uploads/${image.id}`,
      `/api/v1/uploads/${notes.id}`,
      `/api/v1/jobs/${startedRender.id}`,
      `/api/v1/jobs/${image.id}`,
    ])
      responses.push(await json(await call("GET", url, { token })));

    const links = responses.flatMap(linksIn);
    const followed = new Set<string>();
    for (const link of links) {
      const response = await call("GET", link.url, { token });
      expect(response.status, `${link.name}: ${link.url}`).toBe(200);
      const contentType = response.headers.get("content-type");
      if (link.name === "image") expect(contentType, link.url).toBe("image/png");
      else if (link.name === "thumbnail") expect(contentType, link.url).toBe("image/webp");
      else if (link.name === "download") {
        // Typed by what the bytes are, as the file's own view says once processed.
        const self = (link.owner.links as { self: string }).self;
        const fresh = (await json(await call("GET", self, { token }))) as { detectedType: string };
        expect(contentType?.split(";")[0], link.url).toBe(fresh.detectedType);
      } else expect(contentType, link.url).toMatch(/^application\/json\b/);
      await response.body?.cancel();
      followed.add(link.name);
    }
    // Every kind of link the schemas declare was followed at least once.
    const declared = [renderSchema, uploadSchema, jobSchema].flatMap((schema) => Object.keys(schema.shape.links.shape));
    expect([...followed].sort()).toEqual([...new Set(declared)].sort());
  });

  it("answer the thumbnail route's other cases with the API's error codes, scoped to the token's owner", async () => {
    const { owner, token } = await newToken();
    const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: "#cc3366" } })
      .png()
      .toBuffer();
    const image = (await json(
      await call("POST", "/api/v1/uploads?name=picture.png", { token, body: png, headers: { "content-type": "image/png" } }),
      202,
    )) as { id: string };
    const notes = (await json(
      await call("POST", "/api/v1/uploads?name=notes.txt", { token, body: "words\n", headers: { "content-type": "text/plain" } }),
      202,
    )) as { id: string };
    const processed = await waitForProcessedUpload(web.test.db, owner.id, image.id);
    await waitForProcessedUpload(web.test.db, owner.id, notes.id);

    const thumbnail = await call("GET", `/api/v1/uploads/${image.id}/thumbnail`, { token });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("etag")).toBe(`"${processed.thumbnailSha256}"`);
    const revalidated = await call("GET", `/api/v1/uploads/${image.id}/thumbnail`, {
      token,
      headers: { "if-none-match": thumbnail.headers.get("etag")! },
    });
    expect(revalidated.status).toBe(304);

    expect(await json(await call("GET", `/api/v1/uploads/${notes.id}/thumbnail`, { token }), 409)).toMatchObject({
      error: { code: "conflict" },
    });
    const someoneElse = await newToken();
    expect(await json(await call("GET", `/api/v1/uploads/${image.id}/thumbnail`, { token: someoneElse.token }), 404)).toEqual({
      error: { code: "not_found", message: "No such file" },
    });
    expect(await json(await call("GET", "/api/v1/uploads/not-an-id/thumbnail", { token }), 404)).toEqual({
      error: { code: "not_found", message: "No such file" },
    });
    const unsigned = await call("GET", `/api/v1/uploads/${image.id}/thumbnail`, { token: "lr_not-a-token" });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: { code: "unauthorized" } });
  });
});
