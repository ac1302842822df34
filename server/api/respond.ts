import { createHash } from "node:crypto";
import type { z } from "zod";
import type { IdempotencyKey, IdempotentOutcome, StoredResponse } from "@/db/queries/idempotency";
import { ERROR_STATUS, errorResponse, type ErrorCode, type FieldError } from "@/lib/errors";
import { idempotencyKeyHeader } from "@/lib/api/schemas";
import { readBodyWithin } from "./body";

/** How the Jobs API's handlers read requests and write answers. */

export type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response };

const fieldErrors = (error: z.ZodError): FieldError[] =>
  error.issues.map((issue) => ({ field: issue.path.join(".") || "(body)", message: issue.message }));

function invalid(what: string, error: z.ZodError): Parsed<never> {
  const fields = fieldErrors(error);
  const summary = fields.map((field) => `${field.field}: ${field.message}`).join("; ");
  return { ok: false, response: errorResponse("bad_request", `Invalid ${what}: ${summary}`, { fields }) };
}

/**
 * A JSON body of at most `maxBytes` checked against `schema`: a 413 past the size
 * (before anything is parsed), a 400 naming each wrong field otherwise.
 */
export async function parseJsonBody<S extends z.ZodType>(
  request: Request,
  { schema, maxBytes }: { schema: S; maxBytes: number },
): Promise<Parsed<z.output<S>>> {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(request.headers.get("content-type") ?? "")) {
    return { ok: false, response: errorResponse("bad_request", "Send a JSON body with Content-Type: application/json") };
  }
  const bytes = await readBodyWithin(request, maxBytes);
  if (!bytes.ok) return bytes;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes.bytes));
  } catch {
    return { ok: false, response: errorResponse("bad_request", "The body is not valid JSON") };
  }
  let parsed: z.ZodSafeParseResult<z.output<S>>;
  try {
    parsed = schema.safeParse(body);
  } catch {
    // zod's length checks also run on a non-string that has a length, and throw when that length
    // cannot become a number ({"name": {"length": {"valueOf": 1, "toString": 1}}}): a bad body all the same.
    return {
      ok: false,
      response: errorResponse("bad_request", "Invalid body", { fields: [{ field: "(body)", message: "Not the expected types" }] }),
    };
  }
  return parsed.success ? { ok: true, data: parsed.data } : invalid("body", parsed.error);
}

/** The query string checked against `schema` (each parameter once). */
export function parseQuery<S extends z.ZodType>(request: Request, schema: S): Parsed<z.output<S>> {
  const parsed = schema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  return parsed.success ? { ok: true, data: parsed.data } : invalid("query", parsed.error);
}

/**
 * The request's Idempotency-Key, scoped to its owner, with a hash of what the
 * request asks (method, path and `parts`) so a reused key with another request is caught.
 */
export function idempotencyKeyOf(request: Request, ownerId: string, parts: unknown): Parsed<IdempotencyKey | null> {
  const header = request.headers.get("idempotency-key");
  if (header === null) return { ok: true, data: null };
  const key = idempotencyKeyHeader.safeParse(header);
  if (!key.success) return { ok: false, response: errorResponse("bad_request", "Idempotency-Key must be 1 to 255 characters") };
  const requestHash = createHash("sha256")
    .update(JSON.stringify([request.method, new URL(request.url).pathname, parts]))
    .digest("hex");
  return { ok: true, data: { ownerId, key: key.data, requestHash } };
}

export function apiJson(body: unknown, init: { status?: number; location?: string | null; headers?: HeadersInit } = {}) {
  const headers = new Headers(init.headers);
  headers.set("Cache-Control", "no-store");
  if (init.location) headers.set("Location", init.location);
  return Response.json(body, { status: init.status ?? 200, headers });
}

/** The answer to an idempotent POST: the work's response, or the first one again (marked), or a 422. */
export function idempotentResponse(outcome: IdempotentOutcome) {
  if (outcome.kind === "mismatch") {
    return errorResponse(
      "idempotency_key_reused",
      "This Idempotency-Key was used with a different request; use a new key for a new request",
    );
  }
  const { status, body, location } = outcome.response;
  return apiJson(body, { status, location, headers: outcome.kind === "replayed" ? { "Idempotent-Replayed": "true" } : {} });
}

/** A refusal as the work of an idempotent request returns it (not stored, so a retry runs again). */
export function refusal(code: ErrorCode, message: string): StoredResponse {
  return { status: ERROR_STATUS[code], body: { error: { code, message } }, location: null };
}

/** A list's cursor that names none of the person's items (the list's own, passed back unchanged, always does). */
export const unknownCursor = () =>
  errorResponse("bad_request", "Invalid query: cursor: not a cursor of this list (pass nextCursor unchanged)", {
    fields: [{ field: "cursor", message: "Not a cursor of this list" }],
  });
