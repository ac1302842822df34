import { z } from "zod";
import "zod-openapi"; // types for the OpenAPI keys of .meta()
import { resultStatus } from "@/db/schema/results";
import { uploadStepName, uploadStepStatus } from "@/db/schema/uploads";
import { COLORMAP_NAMES } from "@/lib/render/colormaps";
import type { ErrorCode } from "@/lib/errors";
import { configurationInputSchema, DEFAULT_CONFIGURATION, LIMITS } from "@/lib/validation/configuration";
import { uploadNameSchema } from "@/lib/validation/upload";

/**
 * The Jobs API's request and response shapes. Handlers parse with these and
 * lib/api/openapi.ts builds /api/v1/openapi.json from them, so the document
 * cannot drift from the code.
 */

const LINKS_DESCRIPTION = "Jobs API routes, each fetchable with the token that got this response";
const webPage = z.string();
const timestamp = z.iso.datetime({ offset: true }).meta({ description: "ISO 8601 time", example: "2026-11-24T07:30:00.000Z" });
const id = z.uuid();

export const errorCodes = [
  "unauthorized",
  "forbidden",
  "not_found",
  "bad_request",
  "conflict",
  "file_too_large",
  "body_too_large",
  "size_limit",
  "render_limit",
  "storage_quota_exceeded",
  "idempotency_key_reused",
  "rate_limited",
  "internal",
  "unavailable",
] as const satisfies ErrorCode[];

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes).meta({ description: "Stable: clients may switch on it" }),
      message: z.string().meta({ description: "For people; may change" }),
      fields: z
        .array(z.object({ field: z.string(), message: z.string() }))
        .optional()
        .meta({ description: "Which fields of the body or query were wrong" }),
    }),
  })
  .meta({ id: "Error" });

const int = (min: number, max: number) => z.int().min(min).max(max);

/**
 * A new render. JSON numbers only (no strings, NaN or Infinity); omitted
 * settings take the defaults the web form starts with. With `configurationId`
 * the render replaces that configuration's settings (its unfinished render is
 * superseded); without, a new configuration is created.
 */
/** The largest POST /renders body: a render request is a few hundred bytes, a long name included. */
export const RENDER_REQUEST_MAX_BYTES = 64 * 1024;

export const createRenderSchema = z
  .strictObject({
    configurationId: id.optional().meta({ description: "Render into this configuration of yours instead of a new one" }),
    name: configurationInputSchema.shape.name.optional().meta({ description: "Name of a new configuration", example: "API render" }),
    re: z.number().meta({ description: "Real part of c", example: -0.8 }),
    im: z.number().meta({ description: "Imaginary part of c", example: 0.156 }),
    depth: int(LIMITS.depth.min, LIMITS.depth.max).default(DEFAULT_CONFIGURATION.depth),
    width: int(LIMITS.size.min, LIMITS.size.max).default(DEFAULT_CONFIGURATION.width),
    height: int(LIMITS.size.min, LIMITS.size.max).default(DEFAULT_CONFIGURATION.height),
    zoom: z.number().positive().default(DEFAULT_CONFIGURATION.zoom),
    cx: z.number().default(DEFAULT_CONFIGURATION.cx),
    cy: z.number().default(DEFAULT_CONFIGURATION.cy),
    colormap: z.enum(COLORMAP_NAMES).default(DEFAULT_CONFIGURATION.colormap),
  })
  .meta({ id: "CreateRender" });
export type CreateRender = z.output<typeof createRenderSchema>;

const renderStatus = z.enum(resultStatus.enumValues);

export const renderSchema = z
  .object({
    id,
    kind: z.literal("render"),
    configurationId: id,
    configurationName: z.string(),
    status: renderStatus,
    progress: z.number().min(0).max(1),
    message: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.int().meta({ description: "Attempts so far (a lost worker's attempt counts)" }),
    params: createRenderSchema.omit({ configurationId: true, name: true }).required(),
    queuedAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    wallMs: z.int().nullable(),
    cpuMs: z.int().nullable(),
    webPage: webPage.meta({ description: "Where a person watches it in the web app (a browser page: a session, not the token)" }),
    links: z
      .object({
        self: z.string(),
        image: z.string().nullable().meta({ description: "The PNG, once the render succeeded" }),
      })
      .meta({ description: LINKS_DESCRIPTION }),
  })
  .meta({ id: "Render" });
export type RenderView = z.output<typeof renderSchema>;

/** A job's status over both kinds: an upload is as far as its least finished step. */
export const jobStatus = z.enum(["queued", "running", "succeeded", "failed", "cancelled", "superseded"]);
export type JobStatus = z.output<typeof jobStatus>;

export const uploadSchema = z
  .object({
    id,
    kind: z.literal("upload"),
    name: z.string(),
    size: z.int(),
    declaredType: z.string().nullable().meta({ description: "The Content-Type sent with the upload; never trusted" }),
    detectedType: z.string().nullable().meta({ description: "The type read from the bytes" }),
    md5: z.string().nullable(),
    imageWidth: z.int().nullable(),
    imageHeight: z.int().nullable(),
    status: jobStatus.exclude(["cancelled", "superseded"]),
    steps: z.array(
      z.object({
        step: z.enum(uploadStepName.enumValues),
        status: z.enum(uploadStepStatus.enumValues),
        message: z.string().nullable(),
        finishedAt: timestamp.nullable(),
      }),
    ),
    createdAt: timestamp,
    webPage: webPage.meta({ description: "The file's page in the web app (a browser page: a session, not the token)" }),
    links: z
      .object({
        self: z.string(),
        download: z.string().meta({ description: "The original bytes" }),
        thumbnail: z.string().nullable().meta({ description: "The thumbnail, once an image file has one" }),
      })
      .meta({ description: LINKS_DESCRIPTION }),
  })
  .meta({ id: "Upload" });
export type UploadApiView = z.output<typeof uploadSchema>;

export const jobSchema = z
  .object({
    id,
    kind: z.enum(["render", "upload"]),
    status: jobStatus,
    progress: z.number().min(0).max(1),
    message: z.string().nullable(),
    createdAt: timestamp,
    finishedAt: timestamp.nullable(),
    links: z
      .object({ self: z.string(), resource: z.string().meta({ description: "The render or upload itself" }) })
      .meta({ description: LINKS_DESCRIPTION }),
  })
  .meta({ id: "Job", description: "A render or an upload's processing, seen the same way" });
export type JobView = z.output<typeof jobSchema>;

export const LIST_LIMIT = { default: 20, max: 100 } as const;

const listQuery = z.strictObject({
  cursor: z
    .uuid({ error: "Not a cursor of this list (pass nextCursor unchanged)" })
    .optional()
    .meta({ description: "nextCursor of the previous page" }),
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT.max).default(LIST_LIMIT.default),
});
export const listRendersQuery = listQuery.extend({ status: renderStatus.optional() });
export const listUploadsQuery = listQuery;

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().meta({ description: "Pass as cursor for the next page; null on the last" }),
    })
    .meta({ id: name });
export const renderPageSchema = pageOf(renderSchema, "RenderPage");
export const uploadPageSchema = pageOf(uploadSchema, "UploadPage");

export const idParams = z.object({ id: id.meta({ description: "The render's, upload's or job's id" }) });

export const uploadQuery = z.strictObject({
  name: uploadNameSchema.meta({ description: "The file's name, as it will be listed", example: "scan.png" }),
});

export const meSchema = z
  .object({
    id,
    email: z.string(),
    tier: z.enum(["free", "pro"]),
    storage: z
      .object({
        bytes: z.int().min(0).meta({ description: "Bytes stored in your files" }),
        maxBytes: z.int().meta({ description: "Your tier's storage quota in bytes" }),
        files: z.int().min(0).meta({ description: "How many files you store" }),
        maxFiles: z.int().meta({ description: "Your tier's quota of files" }),
      })
      .meta({ description: "What your files use of your storage quota; an upload past it is a 413 storage_quota_exceeded" }),
  })
  .meta({ id: "Me" });

export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .meta({ description: "Retrying with the same key returns the first response and starts nothing new (kept 24 hours)" });
