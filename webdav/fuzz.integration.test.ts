import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiToken } from "@/db/queries/api-tokens";
import { saveConfiguration } from "@/db/queries/configurations";
import { storeUpload } from "@/db/queries/uploads";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { hostileString } from "@/lib/test/arbitraries";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startWorker } from "@/worker/start-worker";
import { startWebdavProcess, type WebdavProcess } from "./test/webdav-process";
import { escapeAttribute, escapeXml } from "./xml";
import { createPerson, type Person } from "./test/person";

// Raw HTTP fuzzing of the real WebDAV process (webdav/main.ts) over a real
// Postgres: hostile paths, methods, headers, bodies and framing, with and without
// valid credentials, written byte for byte to a socket (no client library tidies
// them). Each request is as a client sends it but for one hostile part, or hostile
// throughout. Alice owns the files; Bob, nobody and bad credentials aim at them.
// Properties: never a 5xx, an answer to every complete request, nobody else ever
// sees one of Alice's names, a refused request changes no row and leaves no stored
// bytes behind, Alice's lock holds, and the process keeps running.
// fast-check prints the seed and the failing requests when a property fails.

const MAX_UPLOAD_BYTES = 64 * 1024;
const MAX_XML_BODY_BYTES = 1024 * 1024;
const ANSWER_TIMEOUT_MS = 15_000;

let test: TestDatabase;
let server: WebdavProcess;
let alice: Person;
let bob: Person;
let revokedToken: string;
let aliceLockToken: string;
let lockedFileEtag: string;
/** The paths of Alice's files and folders, as a client writes them. */
let alicePaths: string[] = [];
/** What Alice has that nobody else may learn: names, ids, a property's value, her lock's token. */
let aliceSecrets: string[] = [];

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

type Answer = { status: number | null; statuses: number[]; head: string; text: string; timedOut: boolean };

/**
 * Writes a request's bytes to a new connection and reads until the server closes it
 * (every request says Connection: close). `stopsSending`: the client stops sending
 * before the end of its body, as a dropped connection does.
 */
function exchange(bytes: Buffer, stopsSending = false): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(server.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, ANSWER_TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // A reset after a refused request: what was read is the answer.
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const latin1 = raw.toString("latin1");
      // The answer's status: the first final one (an Expect: 100-continue gets a 100 first).
      const final = [...latin1.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)]
        .map((match) => Number(match[1]))
        .find((status) => status >= 200);
      resolve({
        status: final ?? null,
        // Every status in the bytes: a pipelined second answer's, and each <D:status> of a 207.
        statuses: [...latin1.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((match) => Number(match[1])),
        head: latin1.slice(0, latin1.indexOf("\r\n\r\n") + 1 || undefined),
        text: raw.toString("utf8"),
        timedOut,
      });
    });
    socket.write(bytes, () => {
      if (stopsSending) socket.end();
    });
  });
}

type Framing =
  | { kind: "exact" }
  | { kind: "none" }
  | { kind: "chunked"; isBroken: boolean }
  /** A Content-Length as written, whatever the body is (the client then stops sending). */
  | { kind: "declared"; value: string }
  /** Fewer bytes declared than sent: the rest reads as a second request. */
  | { kind: "short" }
  /** More declared than sent, then the client stops sending. */
  | { kind: "long" };

type FuzzRequest = { method: string; target: string; headers: [string, string][]; body: Buffer; framing: Framing };

const isCutShort = (framing: Framing) => framing.kind === "declared" || framing.kind === "long";
/**
 * Whether the answer may be to something else: bytes past a declared length read as a second request,
 * which Node answers (400) at once, whatever becomes of the first.
 */
const isAnswerAmbiguous = (request: FuzzRequest) => request.framing.kind === "short" || request.framing.kind === "declared";
/**
 * Whether a request may go unanswered: cut short, or refused (413) before its large body was read, when
 * the server's close resets the connection and the client's kernel may drop the answer before it is read.
 */
const mayGoUnanswered = (request: FuzzRequest) => isCutShort(request.framing) || request.body.length > MAX_UPLOAD_BYTES;

function requestBytes(request: FuzzRequest, authorization: string | null) {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, "Connection: close"];
  if (authorization !== null) lines.push(`Authorization: ${authorization}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const { framing } = request;
  let body = request.body;
  if (framing.kind === "exact") lines.push(`Content-Length: ${body.length}`);
  else if (framing.kind === "none") body = Buffer.alloc(0);
  else if (framing.kind === "declared") lines.push(`Content-Length: ${framing.value}`);
  else if (framing.kind === "short") lines.push(`Content-Length: ${Math.floor(body.length / 2)}`);
  else if (framing.kind === "long") lines.push(`Content-Length: ${body.length + 100}`);
  else {
    lines.push("Transfer-Encoding: chunked");
    const size = framing.isBroken ? "zz" : body.length.toString(16);
    body = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from(body.length > 0 ? "\r\n0\r\n\r\n" : "\r\n")]);
  }
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "utf8"), body]);
}

const describeRequest = (request: FuzzRequest, as?: string) =>
  `${as ? `${as}: ` : ""}${request.method} ${request.target.slice(0, 300)} ${JSON.stringify(request.headers).slice(0, 600)} ${JSON.stringify(request.framing)} body(${request.body.length}): ${request.body.toString("utf8").slice(0, 300)}`;

/** Every row a request could change, everyone's or one person's (jobs and stored bytes: everyone's only). */
async function snapshotRows(ownerId: string | null = null) {
  const [row] = await test.db.execute<{ rows: unknown }>(sql`
    select jsonb_build_object(
      'users', (select jsonb_agg(to_jsonb(u) - 'updated_at' - 'webdav_window_started_at' - 'webdav_window_requests' order by u.id) from users u where ${ownerId}::uuid is null or u.id = ${ownerId}),
      'tokens', (select jsonb_agg(to_jsonb(t) - 'last_used_at' order by t.id) from api_tokens t where ${ownerId}::uuid is null or t.owner_id = ${ownerId}),
      'entries', (select jsonb_agg(to_jsonb(e) order by e.id) from webdav_entries e where ${ownerId}::uuid is null or e.owner_id = ${ownerId}),
      'properties', (select jsonb_agg(to_jsonb(p) order by p.entry_id, p.namespace, p.name) from webdav_properties p join webdav_entries e on e.id = p.entry_id where ${ownerId}::uuid is null or e.owner_id = ${ownerId}),
      'uploads', (select jsonb_agg(to_jsonb(x) order by x.id) from uploads x where ${ownerId}::uuid is null or x.owner_id = ${ownerId}),
      'steps', (select jsonb_agg(to_jsonb(s) order by s.upload_id, s.step) from upload_steps s join uploads x on x.id = s.upload_id where ${ownerId}::uuid is null or x.owner_id = ${ownerId}),
      'configurations', (select jsonb_agg(to_jsonb(c) order by c.id) from configurations c where ${ownerId}::uuid is null or c.owner_id = ${ownerId}),
      'results', (select jsonb_agg(to_jsonb(r) order by r.id) from results r where ${ownerId}::uuid is null or r.owner_id = ${ownerId}),
      'storedFiles', (select jsonb_agg(f.key order by f.key) from stored_files f where ${ownerId}::uuid is null),
      'chunks', (select count(*) from stored_file_chunks where ${ownerId}::uuid is null),
      'jobs', (select count(*) from graphile_worker.jobs where ${ownerId}::uuid is null)
    ) as rows`);
  return row.rows;
}

// ---------------------------------------------------------------- arbitraries

const ALICE_NAMES = [
  "alice-ledger.txt",
  "alice-private",
  "alice-plans.md",
  "alice-résumé.txt",
  "alice-locked.txt",
  "alice-page-upload.csv",
  "alice-secret-render",
];
const isWellFormed = (value: string) => !/\p{Cs}/u.test(value);

/** Names a client would use (Alice's among them), and ones that are valid but odd. */
const PLAIN_NAMES = [
  ...ALICE_NAMES,
  "new.txt",
  "folder",
  "é.txt",
  "a b.txt",
  "日本語.md",
  "x",
  ".hidden",
  "._x",
  ".DS_Store",
  "report (2).pdf",
  "100%.txt",
  "con",
  "a:b",
  "~",
];
/** Segments to refuse, or that mean something else once decoded: traversal, encoded slashes, escapes that decode to no UTF-8. */
const TRICKY_SEGMENTS =
  "..|.|%2e%2e|%2E|.%2e|%2e.|%2F|a%2Fb|%5C|a\\b|%00|%0A|%7F|%|%zz|%E0%A4%A|%C0%AE|%C0%AE%C0%AE|%ED%A0%80|%FF|%25|%%|%u002e|*|;|a;b|..%00|%2e%2e%5c|uploads|results".split(
    "|",
  );

/** One path segment as it goes on the wire: mostly names a client would send, then hostile ones, raw bytes and long names. */
const segment = () =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...PLAIN_NAMES).map(encodeURIComponent) },
    { weight: 2, arbitrary: hostileString().filter(isWellFormed).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...ALICE_NAMES).map((name) => name.toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom(...TRICKY_SEGMENTS) },
    // Raw UTF-8 in a request line: Node refuses it (400) before any of our code.
    { weight: 1, arbitrary: fc.constantFrom("é", "日本", "\u{1F600}", "\u202E") },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.integer({ min: 250, max: 6000 }).map((length) => "x".repeat(length)),
        fc.integer({ min: 40, max: 200 }).map((count) => "%C3%A9".repeat(count)),
      ),
    },
  );

const suffix = fc.oneof(
  { weight: 8, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: fc.constantFrom("?", "?a=1", "?%zz", "#", "#x", "?x#y", ";x") },
);

/** One part of a request: plausible, or (when it is the part under attack) plausible or hostile. */
const plausibleOr = <T>(isHostile: boolean, plausible: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
  isHostile ? fc.oneof({ weight: 1, arbitrary: plausible }, { weight: 3, arbitrary: hostile }) : plausible;

/** One of Alice's paths, or a made-up one in her places, as a client writes them. */
const plausiblePath = () =>
  fc.oneof(
    fc.constantFrom(...alicePaths),
    fc
      .tuple(
        fc.constantFrom("/uploads/", "/uploads/alice-private/", "/results/alice-secret-render/"),
        fc.array(fc.constantFrom(...PLAIN_NAMES).map(encodeURIComponent), { minLength: 1, maxLength: 2 }),
        fc.boolean(),
      )
      .map(([prefix, segments, isFolder]) => `${prefix}${segments.join("/")}${isFolder ? "/" : ""}`),
  );

/** A path: one of Alice's, one made up mostly in her places, sometimes absolute-form or somewhere else entirely. */
const hostilePath = (origin: string) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...alicePaths), suffix).map(([path, end]) => path + end) },
    {
      weight: 12,
      arbitrary: fc
        .tuple(
          fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom("/uploads/", "/uploads/alice-private/") },
            { weight: 2, arbitrary: fc.constantFrom("/", "/results/", "/results/alice-secret-render/") },
            {
              weight: 1,
              arbitrary: fc.constantFrom(`${origin}/uploads/`, "http://evil.example/uploads/", "//", "/uploads//", "/UPLOADS/"),
            },
          ),
          fc.array(segment(), { maxLength: 3 }),
          fc.boolean(),
          suffix,
        )
        .map(([prefix, segments, isFolder, end]) => `${prefix}${segments.join("/")}${isFolder && segments.length > 0 ? "/" : ""}${end}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "*",
        "uploads/alice-ledger.txt",
        "/uploads/./alice-ledger.txt",
        "/uploads/../uploads/alice-ledger.txt",
        "/uploads/alice-private/../../results/",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/uploads/evil://host/uploads/alice-ledger.txt",
        `/${"a/".repeat(70)}`,
      ),
    },
  );

/** A header's value as a client could send it: mostly without control characters (Node refuses those before any of our code). */
const headerValue = (value: fc.Arbitrary<string>) =>
  fc
    .tuple(value, fc.integer({ min: 0, max: 9 }))
    .map(([text, dice]) => (dice === 0 ? text.replace(/[\r\n]/g, " ") : text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, "")));

const tokenLike = fc.oneof(
  fc.uuid().map((id) => `urn:uuid:${id}`),
  fc.constantFrom("urn:uuid:", "opaquelocktoken:x", "DAV:no-lock", ""),
  hostileString(),
);

/** If headers (RFC 4918 §10.4), well-formed or not, with tokens and etags that are not the resource's (or are `known`). */
const ifHeader = (known: string[]) => {
  const token = known.length > 0 ? fc.oneof(tokenLike, fc.constantFrom(...known)) : tokenLike;
  const condition = fc
    .tuple(
      fc.boolean(),
      fc.oneof(
        token.map((value) => `<${value}>`),
        fc.oneof(fc.uuid(), hostileString()).map((value) => `["${value}"]`),
      ),
    )
    .map(([isNot, state]) => `${isNot ? "Not " : ""}${state}`);
  const list = fc.array(condition, { minLength: 1, maxLength: 3 }).map((conditions) => `(${conditions.join(" ")})`);
  const tag = fc.option(
    fc.oneof(hostilePath("http://127.0.0.1"), hostileString()).map((path) => `<${path}> `),
    { nil: "" },
  );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(
          fc.tuple(tag, list).map(([tagged, lists]) => tagged + lists),
          { minLength: 1, maxLength: 3 },
        )
        .map((lists) => lists.join(" ")),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "(",
        "(<",
        "()",
        "(Not)",
        "<>",
        "<x>",
        "x",
        "(<a>",
        "(Not <a> [",
        "(<a>) garbage",
        "(Not Not <a>)",
        "(<a>)".repeat(1500),
        `(${"Not ".repeat(3000)}<a>)`,
      ),
    },
    { weight: 1, arbitrary: hostileString() },
  );
};

const depthHeader = fc.oneof(
  fc.constantFrom(
    "0",
    "1",
    "infinity",
    "Infinity",
    "INFINITY",
    "-1",
    "2",
    "1e3",
    "",
    " 1 ",
    "0,1",
    "1.5",
    "-0",
    "99999999999999999999",
    "0x1",
    "noroot",
    "1, infinity",
  ),
  hostileString(),
);
const timeoutHeader = fc.oneof(
  fc.constantFrom(
    "Second-0",
    "Second-1",
    "Second-99999999999999999999",
    "Infinite",
    "Infinite, Second-4100000000",
    "Second--1",
    "Second-1e9",
    "Second-NaN",
    "",
  ),
  hostileString(),
);

/** A Destination: a hostile path, absolute on our host or another, or no URL at all. */
const destination = (origin: string) =>
  fc.oneof(
    { weight: 4, arbitrary: hostilePath(origin) },
    {
      weight: 2,
      arbitrary: hostilePath(origin)
        .filter((path) => path.startsWith("/"))
        .map((path) => `${origin}${path}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        "file:///etc/passwd",
        "http://evil.example/uploads/x.txt",
        "uploads/x.txt",
        "/uploads/x.txt?%zz",
        "/uploads/x.txt#%zz",
        "/uploads/evil://host/uploads/y.txt",
        "/uploads/a://b",
        "/uploads/alice-private/inside/",
        "/uploads/alice-private/",
        "/uploads/",
        "/",
      ),
    },
    { weight: 1, arbitrary: hostileString() },
  );

// XML bodies: well-formed ones with hostile names and values, and broken, huge, deep and entity-laden ones.
const xmlText = (isHostile: boolean) =>
  plausibleOr(
    isHostile,
    fc.oneof(
      fc.constantFrom("blue", "0x00000020", "Mon, 24 Nov 2026 05:00:00 GMT", "a &amp; b", "é", "日本語", "\u{1F600}"),
      fc.string({ unit: "grapheme-ascii", maxLength: 30 }).map(escapeXml),
    ),
    fc.oneof(
      hostileString().map(escapeXml),
      fc.constantFrom(
        "&#0;",
        "&#x0;",
        "&#1;",
        "&#xD800;",
        "&#xFFFE;",
        "&#1114112;",
        "&#x110000;",
        "&#65;",
        "<![CDATA[<not>&parsed;]]>",
        "&amp;&lt;",
        "&undefined;",
        "]]>",
      ),
    ),
  );
const namespaceUri = (isHostile: boolean) =>
  plausibleOr(
    isHostile,
    fc.constantFrom("DAV:", "urn:x:", "http://example.com/ns/", "urn:schemas-microsoft-com:", "http://apple.com/ns/"),
    fc.oneof(fc.constantFrom("", "DAV", "dav:", "&#0;", "urn:&#1;"), hostileString().map(escapeAttribute)),
  );
const localName = fc.oneof(
  fc.constantFrom(
    "getetag",
    "displayname",
    "lockdiscovery",
    "getcontentlength",
    "resourcetype",
    "supportedlock",
    "colour",
    "Win32FileAttributes",
    "a-b",
    "_",
    "x.y",
  ),
  fc.stringMatching(/^[A-Za-z_][\w.-]{0,20}$/),
);
const properties = (isHostile: boolean) =>
  fc
    .array(
      fc
        .tuple(
          localName,
          namespaceUri(isHostile),
          fc.oneof(
            fc.constant(""),
            xmlText(isHostile),
            xmlText(isHostile).map((text) => `<inner xmlns="urn:y:" a="1">${text}</inner>`),
          ),
        )
        .map(([name, namespace, content]) =>
          content === "" ? `<p:${name} xmlns:p="${namespace}"/>` : `<p:${name} xmlns:p="${namespace}">${content}</p:${name}>`,
        ),
      { maxLength: 4 },
    )
    .map((list) => list.join(""));

const propfindXml = (isHostile: boolean) =>
  plausibleOr(
    isHostile,
    fc.oneof(
      fc.constantFrom("<D:allprop/>", "<D:propname/>", "", "<D:prop/>"),
      properties(false).map((props) => `<D:prop>${props}</D:prop>`),
    ),
    fc.oneof(
      fc.constantFrom("<D:include/>", "<D:bogus/>", "<D:prop>x</D:prop>"),
      properties(true).map((props) => `<D:prop>${props}</D:prop>`),
    ),
  ).map((choice) => `<D:propfind xmlns:D="DAV:">${choice}</D:propfind>`);
const proppatchXml = (isHostile: boolean) =>
  fc
    .array(fc.tuple(plausibleOr(isHostile, fc.constantFrom("set", "remove"), fc.constant("bogus")), properties(isHostile)), {
      minLength: 1,
      maxLength: 3,
    })
    .map(
      (instructions) =>
        `<D:propertyupdate xmlns:D="DAV:">${instructions.map(([action, props]) => `<D:${action}><D:prop>${props}</D:prop></D:${action}>`).join("")}</D:propertyupdate>`,
    );
const lockinfoXml = (isHostile: boolean) =>
  fc
    .tuple(
      plausibleOr(
        isHostile,
        fc.constantFrom("<D:lockscope><D:exclusive/></D:lockscope>", "<D:lockscope><D:shared/></D:lockscope>"),
        fc.constantFrom("<D:lockscope/>", "<D:lockscope><D:bogus/></D:lockscope>", "<D:lockscope>text</D:lockscope>", ""),
      ),
      plausibleOr(
        isHostile,
        fc.constant("<D:locktype><D:write/></D:locktype>"),
        fc.constantFrom("<D:locktype/>", "<D:locktype><D:read/></D:locktype>", ""),
      ),
      fc.oneof(
        fc.constant(""),
        xmlText(isHostile).map((text) => `<D:owner>${text}</D:owner>`),
        xmlText(isHostile).map((text) => `<D:owner><D:href>${text}</D:href></D:owner>`),
        fc.constant("<D:owner/>"),
      ),
    )
    .map(([scope, type, owner]) => `<D:lockinfo xmlns:D="DAV:">${scope}${type}${owner}</D:lockinfo>`);

/** Billion laughs: ten levels of ten references, a gigabyte if expanded. */
const ENTITY_BOMB = `<!DOCTYPE D:x [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 9 }, (_, level) => `<!ENTITY ${String.fromCharCode(98 + level)} "${`&${String.fromCharCode(97 + level)};`.repeat(10)}">`).join("")}]>`;
const EXTERNAL_ENTITY = `<!DOCTYPE D:x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`;

type DocumentChange = { kind: "as is" | "bomb" | "external" | "huge" } | { kind: "cut"; at: number } | { kind: "deep"; depth: number };

/** A document around `xml`, then maybe (when hostile) broken: cut short, with entities, nested deep, or too large to read. */
const xmlDocument = (xml: fc.Arbitrary<string>, isHostile: boolean) =>
  fc
    .tuple(
      xml,
      plausibleOr(
        isHostile,
        fc.constantFrom('<?xml version="1.0" encoding="utf-8"?>', ""),
        fc.constantFrom("\uFEFF", '<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.1"?>', "<!-- x -->", "<?pi x?>"),
      ),
      plausibleOr<DocumentChange>(
        isHostile,
        fc.constant({ kind: "as is" }),
        fc.oneof(
          fc.double({ min: 0, max: 1, noNaN: true }).map((at) => ({ kind: "cut" as const, at })),
          fc.constantFrom({ kind: "bomb" as const }, { kind: "external" as const }, { kind: "huge" as const }),
          fc.integer({ min: 1_000, max: 100_000 }).map((depth) => ({ kind: "deep" as const, depth })),
        ),
      ),
    )
    .map(([body, prolog, change]) => {
      switch (change.kind) {
        case "as is":
          return prolog + body;
        case "cut":
          return (prolog + body).slice(0, Math.floor((prolog + body).length * change.at));
        case "bomb":
          return (
            ENTITY_BOMB +
            body.replace(/(<D:\w+ xmlns:D="DAV:">)/, `$1<D:prop><x:p xmlns:x="urn:x:">&j;</x:p></D:prop><D:owner>&j;</D:owner>`)
          );
        case "external":
          return (
            EXTERNAL_ENTITY +
            body.replace(/(<D:\w+ xmlns:D="DAV:">)/, `$1<D:prop><x:p xmlns:x="urn:x:">&xxe;</x:p></D:prop><D:owner>&xxe;</D:owner>`)
          );
        case "deep": {
          const nested = `${"<a>".repeat(change.depth)}x${"</a>".repeat(change.depth)}`;
          return body.replace(
            /(<D:\w+ xmlns:D="DAV:">)/,
            `$1<D:set><D:prop><x:p xmlns:x="urn:x:">${nested}</x:p></D:prop></D:set><D:prop><x:q xmlns:x="urn:x:">${nested}</x:q></D:prop><D:owner>${nested}</D:owner>`,
          );
        }
        case "huge":
          return body + " ".repeat(MAX_XML_BODY_BYTES + 1 - Buffer.byteLength(body));
      }
    });

const METHODS = ["OPTIONS", "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"] as const;

const bodyFor = (method: string, isHostile: boolean): fc.Arbitrary<Buffer> => {
  const text = (arbitrary: fc.Arbitrary<string>) => arbitrary.map((value) => Buffer.from(value, "utf8"));
  const none = fc.constant(Buffer.alloc(0));
  if (method === "PROPFIND")
    return fc.oneof({ weight: 1, arbitrary: none }, { weight: 5, arbitrary: text(xmlDocument(propfindXml(isHostile), isHostile)) });
  if (method === "PROPPATCH") return text(xmlDocument(proppatchXml(isHostile), isHostile));
  if (method === "LOCK")
    return fc.oneof({ weight: 1, arbitrary: none }, { weight: 5, arbitrary: text(xmlDocument(lockinfoXml(isHostile), isHostile)) });
  if (method === "PUT") {
    return plausibleOr(
      isHostile,
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES + 1, 3 * MAX_UPLOAD_BYTES).map((size) => randomBytes(size)),
    );
  }
  return plausibleOr(isHostile, none, fc.oneof(text(hostileString()), text(xmlDocument(propfindXml(true), true))));
};

const framing = (isHostile: boolean): fc.Arbitrary<Framing> =>
  plausibleOr<Framing>(
    isHostile,
    fc.constant({ kind: "exact" }),
    fc.oneof(
      fc.constant({ kind: "none" as const }),
      fc.boolean().map((isBroken) => ({ kind: "chunked" as const, isBroken })),
      fc
        .constantFrom(
          "-1",
          "abc",
          "1e3",
          "0x10",
          "+5",
          " 5",
          "5, 5",
          "5, 6",
          "99999999999999999999",
          "18446744073709551616",
          "",
          "1099511627776",
          "65537",
        )
        .map((value) => ({ kind: "declared" as const, value })),
      fc.constantFrom({ kind: "short" as const }, { kind: "long" as const }),
    ),
  );

/** `value` in about `percent` of cases, else undefined. */
const sometimes = <T>(value: fc.Arbitrary<T>, percent: number) =>
  fc.oneof({ weight: percent, arbitrary: value }, { weight: 100 - percent, arbitrary: fc.constant(undefined) });

/** The headers a method reads, plausible or (when hostile) also hostile, with an If header and others now and then. */
const headersFor = (method: string, origin: string, knownTokens: string[], isHostile: boolean) => {
  const isCopyOrMove = method === "COPY" || method === "MOVE";
  const reads = (methods: string[]) => (methods.includes(method) ? 80 : isHostile ? 10 : 0);
  const value = (plausible: fc.Arbitrary<string>, hostile: fc.Arbitrary<string>) => headerValue(plausibleOr(isHostile, plausible, hostile));
  const lockToken = knownTokens.length > 0 ? fc.oneof(tokenLike, fc.constantFrom(...knownTokens)) : tokenLike;
  const plausibleDestination = fc
    .tuple(
      fc.constantFrom(origin, ""),
      fc.oneof(
        fc.constantFrom(...alicePaths),
        fc.constantFrom(...PLAIN_NAMES).map((name) => `/uploads/${encodeURIComponent(name)}`),
      ),
    )
    .map(([host, path]) => host + path);
  return fc
    .record({
      Depth: sometimes(value(fc.constantFrom("0", "1", "infinity"), depthHeader), reads(["PROPFIND", "COPY", "MOVE", "DELETE", "LOCK"])),
      Destination: sometimes(value(plausibleDestination, destination(origin)), isCopyOrMove ? 95 : isHostile ? 10 : 0),
      Overwrite: sometimes(
        value(fc.constantFrom("T", "F"), fc.oneof(fc.constantFrom("t", "f", "", "TF", "yes", "0"), hostileString())),
        isCopyOrMove ? 50 : isHostile ? 10 : 0,
      ),
      Timeout: sometimes(value(fc.constantFrom("Second-600", "Infinite"), timeoutHeader), method === "LOCK" ? 50 : isHostile ? 10 : 0),
      "Lock-Token": sometimes(
        value(
          lockToken.map((token) => `<${token}>`),
          fc.oneof(lockToken, fc.constantFrom("<>", "<", ">", "<<a>>")),
        ),
        method === "UNLOCK" ? 95 : isHostile ? 10 : 0,
      ),
      If: sometimes(headerValue(ifHeader(knownTokens)), isHostile ? 30 : 0),
      "Content-Type": sometimes(
        value(
          fc.constantFrom("text/plain", "application/octet-stream", "text/xml; charset=utf-8"),
          fc.oneof(fc.constantFrom("application/xml; charset=utf-16", "multipart/form-data; boundary=x", ""), hostileString()),
        ),
        50,
      ),
      Extra: sometimes(
        fc.constantFrom<[string, string]>(
          ["Translate", "f"],
          ["Source", "T"],
          ["Accept", "application/json"],
          ["Expect", "100-continue"],
          ["X-HTTP-Method-Override", "DELETE"],
          ["Range", "bytes=0-0"],
          ["Range", "bytes=999999999999-"],
          ["If-Match", '"x"'],
          ["If-None-Match", "*"],
          ["If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"],
          ["Content-Range", "bytes 0-0/1"],
          ["Content-Encoding", "gzip"],
        ),
        isHostile ? 30 : 0,
      ),
    })
    .map(({ Extra, ...named }) => [
      ...Object.entries(named).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ...(Extra ? [Extra] : []),
    ]);
};

/** Which part of a request is hostile (the others are as a client sends them), or all of them. */
const HOSTILE_PARTS = ["target", "headers", "body", "framing", "all"] as const;

/** A whole request: a method (WebDAV's mostly), a target, the method's headers and body, and its framing, hostile in one part or all. */
const hostileRequest = (knownTokens: string[]): fc.Arbitrary<FuzzRequest> => {
  const origin = `http://127.0.0.1:${server.port}`;
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...METHODS) },
    { weight: 1, arbitrary: fc.constantFrom("POST", "TRACE", "SEARCH", "REPORT", "PATCH", "FOO", "propfind", "BIND", "ACL") },
  );
  return fc.tuple(method, fc.constantFrom(...HOSTILE_PARTS)).chain(([verb, part]) => {
    const isHostile = (which: (typeof HOSTILE_PARTS)[number]) => part === which || part === "all";
    return fc
      .tuple(
        plausibleOr(isHostile("target"), plausiblePath(), hostilePath(origin)),
        headersFor(verb, origin, knownTokens, isHostile("headers")),
        bodyFor(verb, isHostile("body")),
        framing(isHostile("framing")),
      )
      .map(([target, headers, body, frame]) => {
        const request = { method: verb, target, headers, body, framing: frame };
        // fast-check prints a failing request this way: a megabyte body in full would bury it.
        return Object.defineProperty(request, fc.toStringMethod, { value: () => describeRequest(request) });
      });
  });
};

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  test = await createTestDatabase();
  server = await startWebdavProcess(test.url, { UPLOAD_MAX_BYTES: String(MAX_UPLOAD_BYTES) });
  // Pro: the fuzzing sends more requests a minute than a free account may make.
  alice = await createPerson(test.db, { tier: "pro" });
  bob = await createPerson(test.db, { tier: "pro" });
  const carol = await createPerson(test.db);
  const [carolsToken] = await test.db.query.apiTokens.findMany({ where: (table, { eq }) => eq(table.ownerId, carol.id) });
  await revokeApiToken(test.db, { id: carolsToken.id, ownerId: carol.id });
  revokedToken = carol.token;

  // Alice's tree, made as a client makes it: files, a folder, a dead property, a lock; an upload from the page; a finished render.
  const asAlice = (method: string, path: string, body = "", headers: Record<string, string> = {}) =>
    exchange(
      requestBytes(
        { method, target: path, headers: Object.entries(headers), body: Buffer.from(body), framing: { kind: "exact" } },
        basic(alice.email, alice.token),
      ),
    );
  const secretValue = "alice-dead-property-value";
  for (const [method, path, body] of [
    ["MKCOL", "/uploads/alice-private/", ""],
    ["PUT", "/uploads/alice-private/alice-plans.md", "# plans"],
    ["PUT", "/uploads/alice-ledger.txt", "1,2,3"],
    ["PUT", `/uploads/${encodeURIComponent("alice-résumé.txt")}`, "cv"],
    [
      "PROPPATCH",
      "/uploads/alice-ledger.txt",
      `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:note xmlns:x="urn:alice:">${secretValue}</x:note></D:prop></D:set></D:propertyupdate>`,
    ],
  ]) {
    expect((await asAlice(method, path, body)).status, `${method} ${path}`).toBeLessThan(300);
  }
  const lock = await asAlice(
    "LOCK",
    "/uploads/alice-locked.txt",
    `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice-laptop</D:owner></D:lockinfo>`,
    { Timeout: "Second-3600" },
  );
  expect(lock.status).toBe(201);
  aliceLockToken = /lock-token: <?([^>\r\n]+)>?/i.exec(lock.head)![1];
  const pageUpload = await storeUpload(
    test.db,
    Readable.from([Buffer.from("a,b\n")]),
    { ownerId: alice.id, name: "alice-page-upload.csv", declaredType: "text/csv" },
    { maxBytes: MAX_UPLOAD_BYTES },
  );
  const saved = await saveConfiguration(test.db, {
    ownerId: alice.id,
    input: { ...DEFAULT_CONFIGURATION, name: "alice-secret-render", width: 32, height: 32, depth: 16 },
  });
  if (!saved.ok) throw new Error("save failed");

  // A worker processes all of it, then stops: from here on only requests change rows.
  const worker = await startWorker({ databaseUrl: test.url, concurrency: 2, renderThreads: 1, log: () => {} });
  await waitFor(
    () =>
      test.db.execute<{ count: number }>(
        sql`select count(*)::int as count from graphile_worker.jobs where task_identifier not in ('housekeeping', 'run_schedules', 'check_sources', 'roll_up_usage')`,
      ),
    ([row]) => row.count === 0,
  );
  await worker.stop();
  // The page's upload takes its place in /uploads at Alice's first look.
  const listing = await asAlice("PROPFIND", "/uploads/", "", { Depth: "1" });
  expect(listing.text).toContain("alice-page-upload.csv");
  lockedFileEtag = /<D:getetag>([^<]+)<\/D:getetag>/.exec(
    (await asAlice("PROPFIND", "/uploads/alice-locked.txt", "", { Depth: "0" })).text,
  )![1];
  const image = await asAlice("PROPFIND", "/results/alice-secret-render/", "", { Depth: "1" });
  const imageName = /<D:href>\/results\/alice-secret-render\/([^<]+\.png)<\/D:href>/.exec(image.text)![1];

  const [{ uploadIds }] = await test.db.execute<{ uploadIds: string[] }>(
    sql`select array_agg(id::text) as "uploadIds" from uploads where owner_id = ${alice.id}`,
  );
  alicePaths = [
    "/",
    "/uploads/",
    "/results/",
    "/uploads/alice-ledger.txt",
    "/uploads/alice-private/",
    "/uploads/alice-private/alice-plans.md",
    `/uploads/${encodeURIComponent("alice-résumé.txt")}`,
    "/uploads/alice-locked.txt",
    "/uploads/alice-page-upload.csv",
    "/results/alice-secret-render/",
    `/results/alice-secret-render/${imageName}`,
  ];
  aliceSecrets = [
    ...ALICE_NAMES,
    alice.email,
    alice.id,
    saved.resultId,
    pageUpload.id,
    ...uploadIds,
    secretValue,
    "alice-laptop",
    aliceLockToken,
    decodeURIComponent(imageName),
  ];
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await test?.drop();
});

// ---------------------------------------------------------------- properties

/** The forms a name takes in an answer: as is, percent-encoded (either case), XML-escaped. */
const formsOf = (secret: string) => [secret, encodeURIComponent(secret), escapeXml(secret)].map((form) => form.toLowerCase());
const mentions = (text: string, secret: string) => formsOf(secret).some((form) => text.toLowerCase().includes(form));

function expectNoServerError(request: FuzzRequest, answer: Answer, what: string) {
  expect(answer.timedOut, `no answer within ${ANSWER_TIMEOUT_MS} ms: ${what}`).toBe(false);
  expect(server.exitCode, `the WebDAV process exited after: ${what}\n${server.output.join("").slice(-3000)}`).toBeNull();
  if (!mayGoUnanswered(request)) expect(answer.status, `no answer: ${what}`).not.toBeNull();
  // 501 is HTTP's answer to a method the server does not implement (RFC 9110 §15.6.2), and only to those.
  const isImplemented = [...METHODS, "POST"].includes(request.method);
  for (const status of answer.statuses) {
    if (status === 501 && !isImplemented) continue;
    expect(status, `${what}\n→ ${answer.text.slice(0, 1000)}`).toBeLessThan(500);
  }
  // Nothing read from the server's disk (an external entity) comes back.
  expect(answer.text).not.toMatch(/root:.*:0:0:/);
}

/**
 * The rows once the server is done with a request. A request whose body broke off is answered by
 * Node (400) while the server may still be cleaning up after it: wait until its database connections
 * have been idle a while. Any other request is answered once its work is done.
 */
async function rowsAfter(request: FuzzRequest) {
  const isBroken =
    isCutShort(request.framing) || request.framing.kind === "short" || (request.framing.kind === "chunked" && request.framing.isBroken);
  for (let idleChecks = 0, deadline = Date.now() + 5_000; isBroken && idleChecks < 3 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [{ busy }] = await test.db.execute<{ busy: number }>(
      sql`select count(*)::int as busy from pg_stat_activity where datname = current_database() and application_name = 'longrun-webdav' and state <> 'idle'`,
    );
    idleChecks = busy === 0 ? idleChecks + 1 : 0;
  }
  return snapshotRows();
}

/** Stored bytes that no upload holds: what a write that failed halfway would leave. */
async function expectNoOrphanedFiles(what: string) {
  const orphans = await test.db.execute(
    sql`select f.key from stored_files f where not exists (select 1 from uploads u where u.storage_key = f.key::text)`,
  );
  expect(orphans, what).toEqual([]);
}

async function expectServerAlive() {
  expect(server.exitCode, `the WebDAV process exited:\n${server.output.join("")}`).toBeNull();
  const listing = await exchange(requestBytes(plainRequest("PROPFIND", "/uploads/", [["Depth", "1"]]), basic(alice.email, alice.token)));
  expect(listing.status, listing.text).toBe(207);
  expect(listing.text).toContain("<D:href>/uploads/</D:href>");
}

/** Alice's lock is still on her locked file, unchanged: no request without its token removed the lock or wrote the file. */
async function expectLockKept() {
  const discovery = await exchange(
    requestBytes(plainRequest("PROPFIND", "/uploads/alice-locked.txt", [["Depth", "0"]]), basic(alice.email, alice.token)),
  );
  expect(discovery.text).toContain(`<D:locktoken><D:href>${aliceLockToken}</D:href></D:locktoken>`);
  expect(discovery.text).toContain(`<D:getetag>${lockedFileEtag}</D:getetag>`);
}

/** A well-formed request, for examples and checks. */
function plainRequest(method: string, target: string, headers: [string, string][] = [], body = ""): FuzzRequest {
  const request: FuzzRequest = { method, target, headers, body: Buffer.from(body), framing: { kind: "exact" } };
  return Object.defineProperty(request, fc.toStringMethod, { value: () => describeRequest(request) });
}

/** Requests that broke the server before it was fixed; each property tries them first. */
const regressions = () => {
  const deep = (depth: number) => `${"<a>".repeat(depth)}x${"</a>".repeat(depth)}`;
  return [
    // Took the whole process down: webdav-server decoded the Destination's query and threw (URIError) out of a callback.
    plainRequest("MOVE", "/uploads/no-such-file.txt", [
      ["Destination", "/uploads/moved.txt?%zz"],
      ["Overwrite", "F"],
    ]),
    plainRequest("COPY", "/uploads/no-such-file.txt", [["Destination", `http://127.0.0.1:${server.port}/uploads/copy.txt#%E0%A4%A`]]),
    // 502 Bad Gateway from webdav-server: a folder copied or moved into itself.
    plainRequest("MOVE", "/uploads/alice-private/", [["Destination", "/uploads/alice-private/inside/"]]),
    plainRequest("COPY", "/uploads/", [["Destination", "/uploads/evil://host/uploads/alice-ledger.txt"]]),
    // A refused request that changed rows: onto the folder holding its source, with Overwrite, the folder went first (then a 404).
    plainRequest("COPY", "/uploads/alice-private/alice-plans.md", [
      ["Destination", "/uploads/alice-private/"],
      ["Overwrite", "T"],
    ]),
    // 500: a property value nested 100,000 deep overflowed the stack writing it back.
    plainRequest(
      "PROPPATCH",
      "/uploads/alice-ledger.txt",
      [],
      `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:p xmlns:x="urn:x:">${deep(100_000)}</x:p></D:prop></D:set></D:propertyupdate>`,
    ),
    // Kept an empty stored file, and a handler waiting forever, for each PUT whose body broke off before the server read it.
    { ...plainRequest("PUT", "/uploads/cut.txt", [], "0123456789"), framing: { kind: "long" } },
    { ...plainRequest("PUT", "/uploads/cut.txt", [], "0123456789"), framing: { kind: "chunked", isBroken: true } },
    // The same when the body had all arrived, but Node answered 400 to the bytes after it and dropped the connection.
    { ...plainRequest("PUT", "/uploads/cut.txt", [], "0123456789"), framing: { kind: "short" } },
    { ...plainRequest("PUT", "/uploads/cut.txt", [], "0123456789"), framing: { kind: "declared", value: " 5" } },
  ] satisfies FuzzRequest[];
};

const REQUESTERS = [
  { as: "Bob", authorization: () => basic(bob.email, bob.token) },
  { as: "nobody", authorization: () => null },
  { as: "an unknown token", authorization: () => basic(alice.email, `lr_${randomBytes(24).toString("base64url")}`) },
  { as: "a revoked token", authorization: () => basic("carol", revokedToken) },
  // Alice's own token, sent wrongly: none of these may act as her.
  { as: "Alice's token as Bearer", authorization: () => `Bearer ${alice.token}` },
  { as: "Alice's token without a user name", authorization: () => `Basic ${Buffer.from(alice.token).toString("base64")}` },
  { as: "Alice's token and a NUL", authorization: () => basic(alice.email, `${alice.token}\u0000`) },
  { as: "Alice's token in upper case", authorization: () => basic(alice.email, alice.token.toUpperCase()) },
  { as: "Alice's token, raw", authorization: () => `Basic ${alice.token}` },
  { as: "a hostile Authorization", authorization: () => `Basic ${randomBytes(300).toString("base64")}` },
];

describe("fuzzed WebDAV requests", () => {
  it("from Bob, nobody and bad credentials: never a 5xx, never one of Alice's names, ids or tokens, and none of her rows changes", async () => {
    let before = await snapshotRows();
    const alicesRows = await snapshotRows(alice.id);
    const history: string[] = [];
    await fc.assert(
      // Bob a third of the time: bad credentials are refused early, Bob gets as far as his own tree.
      fc.asyncProperty(
        fc.oneof({ weight: 5, arbitrary: fc.constant(REQUESTERS[0]) }, { weight: 9, arbitrary: fc.constantFrom(...REQUESTERS.slice(1)) }),
        hostileRequest([aliceLockToken]),
        async ({ as, authorization }, request) => {
          const sent = requestBytes(request, authorization());
          const answer = await exchange(sent, isCutShort(request.framing));
          history.push(`${describeRequest(request, as)} → ${answer.status}`);
          const what = history.slice(-3).join("\n\n");
          expectNoServerError(request, answer, what);
          if (as !== "Bob") expect([null, 400, 401, 405, 431], what).toContain(answer.status);

          // A refused request (or one cut short) changes nothing of anyone's; nothing Bob does changes Alice's rows.
          const after = await rowsAfter(request);
          if (!isAnswerAmbiguous(request) && (answer.status === null || answer.status >= 400)) expect(after, what).toEqual(before);
          await expectNoOrphanedFiles(what);
          expect(await snapshotRows(alice.id), what).toEqual(alicesRows);
          before = after;

          // Whatever the answer, it names nothing of Alice's that the request (or Bob's own tree) did not.
          const known = sent.toString("utf8") + JSON.stringify(await snapshotRows(bob.id));
          for (const secret of aliceSecrets) {
            if (!mentions(known, secret))
              expect(mentions(answer.text, secret), `${what}\nleaks ${secret}:\n${answer.text.slice(0, 2000)}`).toBe(false);
          }
        },
      ),
      // No shrinking: each request changes the server's state (Bob's files, locks) for the next.
      { numRuns: 400, endOnFailure: true, examples: regressions().map((request) => [REQUESTERS[0], request]) },
    );
    await expectServerAlive();
    await expectLockKept();
  });

  it("from Alice herself: never a 5xx, and a refused request changes nothing", async () => {
    let before = await snapshotRows();
    const history: string[] = [];
    await fc.assert(
      fc.asyncProperty(hostileRequest([]), async (request) => {
        const answer = await exchange(requestBytes(request, basic(alice.email, alice.token)), isCutShort(request.framing));
        history.push(`${describeRequest(request, "Alice")} → ${answer.status}`);
        const what = history.slice(-3).join("\n\n");
        expectNoServerError(request, answer, what);
        const after = await rowsAfter(request);
        if (!isAnswerAmbiguous(request) && (answer.status === null || answer.status >= 400)) expect(after, what).toEqual(before);
        await expectNoOrphanedFiles(what);
        before = after;
      }),
      { numRuns: 400, endOnFailure: true, examples: regressions().map((request) => [request]) },
    );
    await expectServerAlive();
    await expectLockKept();
  });
});
