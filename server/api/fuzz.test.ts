import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resultStatus } from "@/db/schema/results";
import { COLORMAP_NAMES } from "@/lib/render/colormaps";
import {
  deeplyNestedJson,
  hasControlCharacters,
  hostileJson,
  hostileKey,
  hostileNumber,
  hostileRecord,
  hostileString,
  validConfigurationFields,
} from "@/lib/test/arbitraries";
import { DEFAULT_CONFIGURATION, LIMITS } from "@/lib/validation/configuration";
import { UPLOAD_NAME_MAX_LENGTH } from "@/lib/validation/upload";
import { idempotencyKeyOf, parseJsonBody, parseQuery } from "./respond";
import {
  createRenderSchema,
  errorSchema,
  LIST_LIMIT,
  listRendersQuery,
  listUploadsQuery,
  RENDER_REQUEST_MAX_BYTES,
  uploadQuery,
  type CreateRender,
} from "@/lib/api/schemas";

// Property tests of the Jobs API's parsing, with real Request objects as the
// route handlers receive them: nothing throws, a refusal is a 400 in the
// documented error shape, and what is accepted is within the limits.

const CREATE_RENDER_FIELDS = Object.keys(createRenderSchema.shape);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function expectWithinLimits(render: CreateRender) {
  for (const key of ["re", "im", "zoom", "cx", "cy"] as const) expect(Number.isFinite(render[key]), key).toBe(true);
  expect(render.zoom).toBeGreaterThan(0);
  expect(Number.isInteger(render.depth) && render.depth >= LIMITS.depth.min && render.depth <= LIMITS.depth.max, "depth").toBe(true);
  for (const key of ["width", "height"] as const) {
    expect(Number.isInteger(render[key]) && render[key] >= LIMITS.size.min && render[key] <= LIMITS.size.max, key).toBe(true);
  }
  expect(COLORMAP_NAMES).toContain(render.colormap);
  if (render.name !== undefined) {
    expect(render.name).toBe(render.name.trim());
    expect(render.name.length >= 1 && render.name.length <= LIMITS.nameMaxLength).toBe(true);
    expect(hasControlCharacters(render.name)).toBe(false);
  }
  if (render.configurationId !== undefined) expect(render.configurationId).toMatch(UUID);
  for (const key of Object.keys(render)) expect(CREATE_RENDER_FIELDS).toContain(key);
}

async function expectBadRequest(response: Response) {
  expect(response.status).toBe(400);
  const body = errorSchema.parse(await response.json());
  expect(body.error.code).toBe("bad_request");
  return body.error;
}

const jsonRequest = (body: string, contentType = "application/json") =>
  new Request("http://localhost/api/v1/renders", { method: "POST", headers: { "Content-Type": contentType }, body });

/** A body as a client could send it: JSON of hostile values, "__proto__" keys kept as JSON.parse keeps them, or not JSON at all. */
const hostileBody = fc.oneof(
  { weight: 4, arbitrary: hostileRecord(CREATE_RENDER_FIELDS, hostileJson()).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: hostileJson().map((value) => JSON.stringify(value) ?? "null") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"re":0,"im":0,"__proto__":{"isAdmin":true}}',
      '{"re":0,"im":0,"constructor":{"prototype":{"x":1}}}',
      '{"re":NaN,"im":0}',
      '{"re":1e400,"im":0}',
      '{"re":0,"im":0,"width":1e2}',
      '{"re":0,"im":0}garbage',
      "\uFEFF{}",
      "",
      '{"re":0,"im":0,"name":{"length":{"toString":1,"valueOf":1}}}',
      '{"re":0,"im":0,"name":{"length":[{"toString":1}]}}',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((depth) => `{"re":0,"im":0,"name":${deeplyNestedJson(depth)}}`) },
  { weight: 1, arbitrary: hostileString() },
);

describe("POST /api/v1/renders bodies (createRenderSchema through parseJsonBody)", () => {
  it("never throws; a refusal is a 400 naming fields (413 past the size limit), an acceptance is within the limits", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileBody,
        fc.constantFrom("application/json", "application/merge-patch+json", "text/plain", ""),
        async (body, contentType) => {
          const parsed = await parseJsonBody(jsonRequest(body, contentType), {
            schema: createRenderSchema,
            maxBytes: RENDER_REQUEST_MAX_BYTES,
          });
          if (parsed.ok) expectWithinLimits(parsed.data);
          else if (contentType.endsWith("json") && Buffer.byteLength(body) > RENDER_REQUEST_MAX_BYTES)
            expect(parsed.response.status).toBe(413);
          else await expectBadRequest(parsed.response);
          // Whatever the body said, no prototype was touched.
          expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
          expect(({} as Record<string, unknown>).x).toBeUndefined();
        },
      ),
      // A length zod cannot compare used to throw out of safeParse: a 500.
      { numRuns: 1500, examples: [['{"re":0,"im":0,"name":{"length":{"toString":1,"valueOf":1}}}', "application/json"]] },
    );
  });

  it("refuses unknown keys, prototype keys included, naming them", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileKey().filter((key) => !CREATE_RENDER_FIELDS.includes(key)),
        hostileJson(),
        async (key, value) => {
          const body = `{"re":0,"im":0,${JSON.stringify(key)}:${JSON.stringify(value) ?? "null"}}`;
          const parsed = await parseJsonBody(jsonRequest(body), { schema: createRenderSchema, maxBytes: RENDER_REQUEST_MAX_BYTES });
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) expect((await expectBadRequest(parsed.response)).fields?.map((field) => field.field)).toContain("(body)");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accepts every valid render request, with the web form's defaults for what is left out", async () => {
    const render = fc.record({ configurationId: fc.uuid(), ...validConfigurationFields }, { requiredKeys: ["re", "im"] });
    await fc.assert(
      fc.asyncProperty(render, async (value) => {
        const parsed = await parseJsonBody(jsonRequest(JSON.stringify(value)), {
          schema: createRenderSchema,
          maxBytes: RENDER_REQUEST_MAX_BYTES,
        });
        const { name: _name, ...defaults } = DEFAULT_CONFIGURATION;
        expect(parsed).toEqual({ ok: true, data: { ...defaults, ...value } });
      }),
      { numRuns: 500 },
    );
  });
});

/** A query string as a client could send it: the list's own parameters with hostile values, repeated, or unknown ones. */
const hostileQuery = (known: readonly string[]) =>
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...known), hostileKey()), fc.oneof(hostileString(), hostileNumber().map(String))), {
      maxLength: 5,
    })
    .map((pairs) => new URLSearchParams(pairs).toString());

describe("list queries (GET /api/v1/renders and /api/v1/uploads)", () => {
  const statuses = resultStatus.enumValues as readonly string[];

  it("never throw; an accepted query has a whole limit within 1–100, a UUID cursor and a known status", () => {
    for (const schema of [listRendersQuery, listUploadsQuery]) {
      fc.assert(
        fc.property(hostileQuery(["limit", "cursor", "status"]), (query) => {
          const parsed = parseQuery(new Request(`http://localhost/api/v1/list?${query}`), schema);
          if (!parsed.ok) {
            expect(parsed.response.status).toBe(400);
            return;
          }
          const { limit, cursor } = parsed.data;
          expect(Number.isInteger(limit) && limit >= 1 && limit <= LIST_LIMIT.max, `limit ${limit}`).toBe(true);
          if (cursor !== undefined) expect(cursor).toMatch(UUID);
          if ("status" in parsed.data && parsed.data.status !== undefined) expect(statuses).toContain(parsed.data.status);
          for (const key of Object.keys(parsed.data)) expect(["limit", "cursor", "status"]).toContain(key);
        }),
        { numRuns: 1500 },
      );
    }
  });

  it("accept every query a client of the list sends", () => {
    const query = fc.record(
      { limit: fc.integer({ min: 1, max: LIST_LIMIT.max }), cursor: fc.uuid(), status: fc.constantFrom(...statuses) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(query, (value) => {
        const search = new URLSearchParams(Object.entries(value).map(([key, entry]) => [key, String(entry)]));
        expect(parseQuery(new Request(`http://localhost/api/v1/renders?${search}`), listRendersQuery)).toEqual({
          ok: true,
          data: { limit: LIST_LIMIT.default, ...value },
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe("POST /api/v1/uploads?name= (uploadQuery)", () => {
  it("never throws; an accepted name is 1–255 characters without control or invisible characters", () => {
    fc.assert(
      fc.property(hostileQuery(["name"]), (query) => {
        const parsed = parseQuery(new Request(`http://localhost/api/v1/uploads?${query}`), uploadQuery);
        if (!parsed.ok) return;
        expect(parsed.data.name.length >= 1 && parsed.data.name.length <= UPLOAD_NAME_MAX_LENGTH).toBe(true);
        expect(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(parsed.data.name)).toBe(false);
        expect(Object.keys(parsed.data)).toEqual(["name"]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("Idempotency-Key", () => {
  it("never throws; a key is kept only when it is 1–255 characters, and the same request hashes the same", () => {
    // Header values are ByteStrings without CR, LF or NUL (fetch refuses others before we see them).
    const headerValue = fc.string({
      unit: fc
        .integer({ min: 0x20, max: 0xff })
        .filter((code) => code !== 0x7f)
        .map((code) => String.fromCharCode(code)),
      maxLength: 300,
    });
    fc.assert(
      fc.property(headerValue, hostileJson(), (key, parts) => {
        const request = () => new Request("http://localhost/api/v1/renders", { method: "POST", headers: { "Idempotency-Key": key } });
        const parsed = idempotencyKeyOf(request(), "owner", parts);
        // Headers lose surrounding spaces; an empty header is not sent as a key of length 0.
        const sent = request().headers.get("idempotency-key")!;
        expect(parsed.ok).toBe(sent.length >= 1 && sent.length <= 255);
        if (parsed.ok && parsed.data) expect(idempotencyKeyOf(request(), "owner", parts)).toEqual(parsed);
      }),
      { numRuns: 1000 },
    );
  });
});
