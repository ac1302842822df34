/**
 * What one person's WebDAV requests may cost everyone else (issue #15): the attacks that were cheap
 * to send and dear to answer, each sent again here to show it now does no harm. Harm is measured as
 * queries, bytes and statuses, never as time: the real server over HTTP and a real Postgres, with a
 * database client that counts the queries the server makes.
 */
import { request as httpRequest, type ClientRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { and, count, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@/db/client";
import { createApiToken } from "@/db/queries/api-tokens";
import { storeUpload } from "@/db/queries/uploads";
import * as schema from "@/db/schema";
import { users, webdavEntries, webdavProperties } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { TIER_LIMITS } from "@/lib/tiers";
import { MAX_IF_CONDITIONS, MAX_REQUESTS_IN_FLIGHT_PER_PERSON, createWebdavServer } from "./server";
import { createPerson, type Person } from "./test/person";
import { MAX_LOCK_OWNER_BYTES, MAX_LOCKS_PER_PERSON } from "./workarounds/webdav-server-lock-command";
import { MAX_PROPERTIES_PER_REQUEST, MAX_PROPFIND_RESPONSE_BYTES } from "./workarounds/webdav-server-property-commands";

let test: TestDatabase;
let server: Server;
let serverClient: postgres.Sql;
let port: number;
/** Every query the server's database client runs, in order. */
const queries: string[] = [];
const faults: string[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
  // The server's own pool, as in webdav/main.ts (WEBDAV_DATABASE_POOL_MAX's default), counting its queries.
  serverClient = postgres(test.url, { max: 10, onnotice: () => {} });
  const counted: Database = drizzle(serverClient, { schema, logger: { logQuery: (query) => queries.push(query) } });
  server = createWebdavServer({ db: counted, maxUploadBytes: 16 * 1024 * 1024, log: (line) => faults.push(line) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await serverClient?.end({ timeout: 5 });
  await test?.drop();
});

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; text: string; queries: number };

function authorization(person: Person, token = person.token) {
  return `Basic ${Buffer.from(`${person.email}:${token}`).toString("base64")}`;
}

/** One request, alone: `queries` is how many the server ran to answer it. */
function dav(
  person: Person,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { Authorization: authorization(person, options.token), ...options.headers };
  if (options.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(options.body));
  const before = queries.length;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          text: body.toString("utf8"),
          queries: queries.length - before,
        });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

const propfind = (person: Person, path: string, depth: "0" | "1", body?: string) =>
  dav(person, "PROPFIND", path, { headers: { Depth: depth, ...(body && { "Content-Type": "application/xml" }) }, body });
const hrefsOf = (xml: string) => [...xml.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((match) => decodeURIComponent(match[1]));

/** Uploads made on the page (not over WebDAV), all with the same name. */
async function uploadOnThePage(person: Person, name: string, times: number) {
  for (let i = 0; i < times; i++) {
    await storeUpload(test.db, (async function* () {})(), { ownerId: person.id, name, declaredType: "text/plain" }, { maxBytes: 1024 });
  }
}

const propfindNaming = (names: string[]) =>
  `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:x="http://example.com/ns/"><D:prop>${names.map((name) => `<x:${name}/>`).join("")}</D:prop></D:propfind>`;

describe("adopting the page's uploads", () => {
  it("takes the same number of queries for 150 uploads of one name as for 10, and gives each its own number", async () => {
    const few = await createPerson(test.db);
    const many = await createPerson(test.db);
    const bob = await createPerson(test.db);
    // A name a numbered one would take is already there: it is skipped.
    expect((await dav(many, "MKCOL", "/uploads/report%20(3).pdf")).status).toBe(201);
    await uploadOnThePage(few, "report.pdf", 10);
    await uploadOnThePage(many, "report.pdf", 150);

    const fewListing = await propfind(few, "/uploads/", "1");
    const manyListing = await propfind(many, "/uploads/", "1");
    expect(fewListing.status).toBe(207);
    expect(manyListing.status).toBe(207);
    // Quadratic adoption tried every number below a free one, with three queries a try: 150 uploads made ~34,000.
    expect(manyListing.queries).toBe(fewListing.queries);
    expect(manyListing.queries).toBeLessThan(15);
    const names = hrefsOf(manyListing.text).slice(1);
    expect(names).toHaveLength(151);
    expect(new Set(names).size).toBe(151);
    expect(names).toContain("/uploads/report.pdf");
    expect(names).toContain("/uploads/report (2).pdf");
    expect(names).toContain("/uploads/report (3).pdf/");
    expect(names).toContain("/uploads/report (151).pdf");
    expect(names).not.toContain("/uploads/report (152).pdf");

    // Nothing left to adopt: one cheap query says so.
    const again = await propfind(many, "/uploads/", "1");
    expect(again.queries).toBeLessThan(manyListing.queries);
    // And someone else is served as usual.
    const bobs = await propfind(bob, "/uploads/", "1");
    expect(bobs.status).toBe(207);
    expect(bobs.queries).toBeLessThanOrEqual(again.queries);
    expect(faults).toEqual([]);
  });
});

describe("PROPFIND and PROPPATCH", () => {
  it("refuses a PROPFIND naming 16,000 properties with a short 413, before reading anything", async () => {
    const person = await createPerson(test.db);
    await uploadOnThePage(person, "file.txt", 20);
    const names = Array.from({ length: 16_000 }, (_, i) => `p${i}`);
    const answer = await propfind(person, "/uploads/", "1", propfindNaming(names));
    expect(answer.status).toBe(413);
    expect(answer.text).toBe(`A PROPFIND may name at most ${MAX_PROPERTIES_PER_REQUEST} properties\n`);

    // As many as allowed is answered.
    const allowed = await propfind(person, "/uploads/", "1", propfindNaming(names.slice(0, MAX_PROPERTIES_PER_REQUEST)));
    expect(allowed.status).toBe(207);
    expect(hrefsOf(allowed.text)).toHaveLength(21);
  });

  it("answers 507 rather than build an answer past its limit, whether names or stored values make it large", async () => {
    const person = await createPerson(test.db);
    await uploadOnThePage(person, "file.txt", 40);
    // 256 names of 2,000 characters: each of the 41 resources repeats them all (about 20 MiB in all).
    const longNames = Array.from({ length: MAX_PROPERTIES_PER_REQUEST }, (_, i) => `${"n".repeat(2_000)}${i}`);
    const named = await propfind(person, "/uploads/", "1", propfindNaming(longNames));
    expect(named.status).toBe(507);
    expect(named.body.length).toBeLessThan(1024);
    expect((await propfind(person, "/uploads/file.txt", "0", propfindNaming(longNames))).status).toBe(207);

    // Twenty files, each with 900 KB of dead properties: more than the limit in all.
    const value = "v".repeat(900_000);
    const listing = hrefsOf((await propfind(person, "/uploads/", "1")).text).slice(1, 21);
    for (const href of listing) {
      const patched = await dav(person, "PROPPATCH", encodeURI(href), {
        body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="http://example.com/ns/"><D:set><D:prop><x:big>${value}</x:big></D:prop></D:set></D:propertyupdate>`,
      });
      expect(patched.status).toBe(207);
    }
    const everything = await propfind(person, "/uploads/", "1");
    expect(everything.status).toBe(507);
    expect(everything.body.length).toBeLessThan(1024);
    expect(everything.text).toContain(`larger than ${MAX_PROPFIND_RESPONSE_BYTES / 1024 / 1024} MiB`);
    // One file's is answered, and so is the folder when the dead properties are not asked for.
    const one = await propfind(person, encodeURI(listing[0]), "0");
    expect(one.status).toBe(207);
    expect(one.text).toContain(value);
    const live = await propfind(
      person,
      "/uploads/",
      "1",
      `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontentlength/></D:prop></D:propfind>`,
    );
    expect(live.status).toBe(207);
    expect(live.body.length).toBeLessThan(64 * 1024);
    expect(faults).toEqual([]);
  });

  it("refuses a PROPPATCH of more properties than allowed with a 413, storing none", async () => {
    const person = await createPerson(test.db);
    expect((await dav(person, "PUT", "/uploads/p.txt", { body: "p" })).status).toBe(201);
    const sets = Array.from({ length: MAX_PROPERTIES_PER_REQUEST + 1 }, (_, i) => `<x:p${i}>${i}</x:p${i}>`).join("");
    const answer = await dav(person, "PROPPATCH", "/uploads/p.txt", {
      body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x"><D:set><D:prop>${sets}</D:prop></D:set></D:propertyupdate>`,
    });
    expect(answer.status).toBe(413);
    expect(answer.text).toBe(`A PROPPATCH may name at most ${MAX_PROPERTIES_PER_REQUEST} properties\n`);
    const [stored] = await test.db
      .select({ count: count() })
      .from(webdavProperties)
      .innerJoin(webdavEntries, eq(webdavEntries.id, webdavProperties.entryId))
      .where(and(eq(webdavEntries.ownerId, person.id), eq(webdavEntries.path, "p.txt")));
    expect(stored.count).toBe(0);
  });
});

describe("the If header", () => {
  it("refuses one with more conditions than allowed before any lookup, and looks each resource up once", async () => {
    const person = await createPerson(test.db);
    await uploadOnThePage(person, "orphan.txt", 1);
    const taggedLists = (n: number) => Array.from({ length: n }, (_, i) => `</uploads/r${i}> (["x"])`).join(" ");

    // 600 lists, each about another resource: 1,200 queries before.
    const tooMany = await dav(person, "PROPFIND", "/uploads/", { headers: { Depth: "0", If: taggedLists(600) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toBe(`An If header may hold at most ${MAX_IF_CONDITIONS} conditions\n`);
    // Authentication and the rate window, nothing more.
    expect(tooMany.queries).toBe(2);

    expect((await propfind(person, "/uploads/", "1")).status).toBe(207); // adopts orphan.txt, so neither request below does
    const one = await dav(person, "PROPFIND", "/uploads/", { headers: { Depth: "0", If: taggedLists(1) } });
    const most = await dav(person, "PROPFIND", "/uploads/", { headers: { Depth: "0", If: taggedLists(MAX_IF_CONDITIONS) } });
    expect([one.status, most.status]).toEqual([412, 412]);
    // One query for each further resource named (the uploads are adopted once per request, not once per resource).
    expect(most.queries - one.queries).toBe(MAX_IF_CONDITIONS - 1);
  });
});

describe("locks, kept in the server's memory", () => {
  const lockBody = (owner: string) =>
    `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>${owner}</D:owner></D:lockinfo>`;
  const lock = (person: Person, path: string, owner = "me") =>
    dav(person, "LOCK", path, { headers: { "Content-Type": "application/xml", Timeout: "Second-600" }, body: lockBody(owner) });

  it("refuses an owner too large to keep, and holds at most so many locks per person (507 past it) while others still lock", async () => {
    const person = await createPerson(test.db, { tier: "pro" });
    const other = await createPerson(test.db);
    expect((await lock(person, "/uploads/locked.txt")).status).toBe(201); // an unmapped URL: a new, empty file

    const hugeOwner = await lock(person, "/uploads/locked.txt", "x".repeat(MAX_LOCK_OWNER_BYTES + 1));
    expect(hugeOwner.status).toBe(413);
    // Shared locks on one file, up to the limit (the first one above counts).
    for (let held = 1; held < MAX_LOCKS_PER_PERSON; held++) expect((await lock(person, "/uploads/locked.txt")).status).toBe(200);
    expect((await lock(person, "/uploads/locked.txt")).status).toBe(507);
    const discovered = await dav(person, "PROPFIND", "/uploads/locked.txt", {
      headers: { Depth: "0", "Content-Type": "application/xml" },
      body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>`,
    });
    expect(discovered.text.match(/<D:activelock>/g)).toHaveLength(MAX_LOCKS_PER_PERSON);
    expect((await lock(other, "/uploads/mine.txt")).status).toBe(201);
  });
});

describe("each person's share of the WebDAV server", () => {
  it("past a person's requests a minute, every one of their tokens gets 429 with Retry-After; others are served", async () => {
    const person = await createPerson(test.db);
    const bob = await createPerson(test.db);
    const first = await dav(person, "PROPFIND", "/", { headers: { Depth: "0" } });
    const limit = TIER_LIMITS.free.requestsPerMinute.webdav;
    expect(first.headers["ratelimit-limit"]).toBe(String(limit));
    expect(first.headers["ratelimit-remaining"]).toBe(String(limit - 1));
    // The rest of the minute's budget, as if spent (countRequest's counting is tested in db/queries/rate-windows).
    await test.db.update(users).set({ webdavWindowRequests: limit }).where(eq(users.id, person.id));
    const created = await createApiToken(test.db, { ownerId: person.id, name: "second" });
    if (!created.ok) throw new Error("no token");
    const anotherToken = created.token;

    for (const token of [person.token, anotherToken]) {
      const refused = await dav(person, "PUT", "/uploads/refused.txt", { body: "no", token });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(60);
      expect(refused.headers["ratelimit-remaining"]).toBe("0");
      expect(refused.text).toMatch(/^A free account may make 1200 WebDAV requests a minute; try again in \d+ s\n$/);
    }
    const [{ files }] = await test.db.select({ files: count() }).from(webdavEntries).where(eq(webdavEntries.ownerId, person.id));
    expect(files).toBe(0);
    expect((await propfind(bob, "/uploads/", "1")).status).toBe(207);

    // The next window is a new budget.
    await test.db
      .update(users)
      .set({ webdavWindowStartedAt: sql`now() - interval '61 seconds'` })
      .where(eq(users.id, person.id));
    expect((await dav(person, "PROPFIND", "/", { headers: { Depth: "0" } })).status).toBe(207);
  });

  it("frees the place of a request whose client went away while the server looked its person up", async () => {
    const person = await createPerson(test.db);
    const openConnections = () =>
      new Promise<number>((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    const idle = await openConnections();
    // The person's row locked, so each request waits in its rate window's UPDATE while its client goes away.
    await test.db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from ${users} where id = ${person.id} for update`);
      const requests = Array.from({ length: MAX_REQUESTS_IN_FLIGHT_PER_PERSON }, () => {
        const request = httpRequest({
          host: "127.0.0.1",
          port,
          method: "PROPFIND",
          path: "/",
          headers: { Authorization: authorization(person), Depth: "0" },
          agent: false,
        });
        request.on("error", () => {});
        request.end();
        return request;
      });
      await waitFor(
        () => test.db.execute<{ count: number }>(sql`select count(*)::int as count from pg_locks where not granted`),
        ([row]) => row.count === MAX_REQUESTS_IN_FLIGHT_PER_PERSON,
      );
      for (const request of requests) request.destroy();
      await waitFor(openConnections, (n) => n === idle);
    });
    await waitFor(
      () => test.db.select({ requests: users.webdavWindowRequests }).from(users).where(eq(users.id, person.id)),
      ([row]) => row.requests === MAX_REQUESTS_IN_FLIGHT_PER_PERSON,
    );
    // None of them holds a place: as many requests at once as allowed are all answered.
    const answers = await Promise.all(
      Array.from({ length: MAX_REQUESTS_IN_FLIGHT_PER_PERSON }, () => dav(person, "PROPFIND", "/", { headers: { Depth: "0" } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 207));
  });

  it(`holds at most ${MAX_REQUESTS_IN_FLIGHT_PER_PERSON} of a person's requests at once (429 past it), while others are served`, async () => {
    const person = await createPerson(test.db);
    const bob = await createPerson(test.db);
    // PUTs whose bodies have not all arrived: each is in flight until its last byte.
    const held: { request: ClientRequest; answer: Promise<number> }[] = [];
    for (let i = 0; i < MAX_REQUESTS_IN_FLIGHT_PER_PERSON; i++) {
      let request!: ClientRequest;
      const answer = new Promise<number>((resolve, reject) => {
        request = httpRequest(
          {
            host: "127.0.0.1",
            port,
            method: "PUT",
            path: `/uploads/held-${i}.txt`,
            headers: { Authorization: authorization(person), "Content-Length": "2" },
            agent: false,
          },
          (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
          },
        );
        request.on("error", reject);
      });
      request.write("a");
      held.push({ request, answer });
    }
    // Once the server holds all of them, the person's next request is refused.
    const refused = await waitFor(
      () => dav(person, "PROPFIND", "/", { headers: { Depth: "0" } }),
      (answer) => answer.status === 429,
    );
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.text).toBe(`At most ${MAX_REQUESTS_IN_FLIGHT_PER_PERSON} requests at once per person; try again in a moment\n`);
    expect((await propfind(bob, "/uploads/", "1")).status).toBe(207);
    expect((await dav(bob, "PUT", "/uploads/bob.txt", { body: "bob" })).status).toBe(201);

    for (const { request } of held) request.end("b");
    expect(await Promise.all(held.map(({ answer }) => answer))).toEqual(held.map(() => 201));
    // Their slots are free again.
    await waitFor(
      () => dav(person, "PROPFIND", "/uploads/", { headers: { Depth: "1" } }),
      (answer) => answer.status === 207,
    );
    expect(faults).toEqual([]);
  });
});
