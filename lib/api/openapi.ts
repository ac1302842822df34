import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from "zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "@/lib/errors";
import {
  createRenderSchema,
  errorSchema,
  idempotencyKeyHeader,
  idParams,
  jobSchema,
  listRendersQuery,
  listUploadsQuery,
  meSchema,
  renderPageSchema,
  renderSchema,
  uploadPageSchema,
  uploadQuery,
  uploadSchema,
} from "./schemas";

/**
 * The OpenAPI 3.1 document of /api/v1, built from the zod schemas the handlers
 * parse with (lib/api/schemas.ts). A unit test checks that its paths and the
 * route handlers under app/api/v1 are the same set; the contract tests check
 * real responses against the same schemas.
 */

const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });
const binary = (type: string) => ({ content: { [type]: { schema: z.string().meta({ format: "binary" }) } } });

/** Every error this operation may answer, besides the 401, 429 and 503 that every authorized one may. */
function errors(...codes: ErrorCode[]): ZodOpenApiResponsesObject {
  const codesByStatus = new Map<number, ErrorCode[]>();
  for (const code of ["unauthorized", "rate_limited", "unavailable", ...codes] as ErrorCode[]) {
    codesByStatus.set(ERROR_STATUS[code], [...(codesByStatus.get(ERROR_STATUS[code]) ?? []), code]);
  }
  return Object.fromEntries(
    [...codesByStatus].map(([status, sameStatus]) => [String(status), { description: sameStatus.join(", "), ...json(errorSchema) }]),
  );
}

const idempotent = { header: z.object({ "Idempotency-Key": idempotencyKeyHeader.optional() }) };
const withId = { path: idParams };

const operations: Record<string, Record<string, ZodOpenApiOperationObject>> = {
  "/me": {
    get: {
      summary: "Who this token belongs to",
      responses: { "200": { description: "The token's owner", ...json(meSchema) }, ...errors() },
    },
  },
  "/renders": {
    get: {
      summary: "Your renders, newest first",
      requestParams: { query: listRendersQuery },
      responses: { "200": { description: "A page of renders", ...json(renderPageSchema) }, ...errors("bad_request") },
    },
    post: {
      summary: "Start a render",
      description: "The configuration, its queued render and the job commit in one transaction.",
      requestParams: idempotent,
      requestBody: { required: true, ...json(createRenderSchema) },
      responses: {
        "202": { description: "Queued (or already running with these settings); Location is the render", ...json(renderSchema) },
        "200": { description: "These settings already have a finished render; nothing new starts", ...json(renderSchema) },
        ...errors("bad_request", "body_too_large", "not_found", "size_limit", "render_limit", "idempotency_key_reused"),
      },
    },
  },
  "/renders/{id}": {
    get: {
      summary: "A render's status, progress, timings and links",
      requestParams: withId,
      responses: { "200": { description: "The render", ...json(renderSchema) }, ...errors("not_found") },
    },
    delete: {
      summary: "Cancel a render",
      description: "A queued render never starts; a running one stops at its next band.",
      requestParams: withId,
      responses: { "200": { description: "The cancelled render", ...json(renderSchema) }, ...errors("not_found", "conflict") },
    },
  },
  "/renders/{id}/image": {
    get: {
      summary: "A finished render's PNG",
      requestParams: withId,
      responses: { "200": { description: "The picture", ...binary("image/png") }, ...errors("not_found", "conflict") },
    },
  },
  "/uploads": {
    get: {
      summary: "Your files, newest first",
      requestParams: { query: listUploadsQuery },
      responses: { "200": { description: "A page of files", ...json(uploadPageSchema) }, ...errors("bad_request") },
    },
    post: {
      summary: "Upload a file (the body's bytes, streamed)",
      description: "Stored, then the file and its processing jobs (checksum, type, thumbnail) commit in one transaction.",
      requestParams: { query: uploadQuery, ...idempotent },
      requestBody: { required: true, ...binary("application/octet-stream") },
      responses: {
        "202": { description: "Stored; processing queued. Location is the file", ...json(uploadSchema) },
        ...errors("bad_request", "file_too_large", "storage_quota_exceeded", "idempotency_key_reused"),
      },
    },
  },
  "/uploads/{id}": {
    get: {
      summary: "A file with its processing steps",
      requestParams: withId,
      responses: { "200": { description: "The file", ...json(uploadSchema) }, ...errors("not_found") },
    },
    delete: {
      summary: "Delete a file, its bytes and thumbnail",
      requestParams: withId,
      responses: { "204": { description: "Deleted" }, ...errors("not_found") },
    },
  },
  "/uploads/{id}/download": {
    get: {
      summary: "A file's original bytes, as an attachment",
      requestParams: withId,
      responses: {
        "200": { description: "The bytes, typed by their detected type", ...binary("application/octet-stream") },
        ...errors("not_found"),
      },
    },
  },
  "/uploads/{id}/thumbnail": {
    get: {
      summary: "An image file's thumbnail (links.thumbnail)",
      description: "Revalidate with If-None-Match: a reprocessed file may get a new thumbnail at the same URL.",
      requestParams: withId,
      responses: {
        "200": { description: "The thumbnail", ...binary("image/webp") },
        "304": { description: "Not modified (If-None-Match matched its ETag)" },
        ...errors("not_found", "conflict"),
      },
    },
  },
  "/jobs/{id}": {
    get: {
      summary: "A render or an upload's processing, by id",
      requestParams: withId,
      responses: { "200": { description: "The job", ...json(jobSchema) }, ...errors("not_found") },
    },
  },
};

export function buildOpenApiDocument() {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Longrun Jobs API",
      version: "1.0.0",
      description:
        "Start, watch and stop computations. Authenticate with a personal API token (Tokens page) as `Authorization: Bearer <token>`. " +
        "Errors are JSON `{ error: { code, message } }` with a stable code. Each person may make their tier's number of requests a minute " +
        "whichever of their tokens they use (free 120, pro 1200; RateLimit-* headers, 429 with Retry-After past it).",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A personal API token (lr_…)" } } },
    paths: {
      ...operations,
      "/openapi.json": {
        get: {
          summary: "This document",
          security: [],
          responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: z.looseObject({}) } } } },
        },
      },
    },
  });
}
