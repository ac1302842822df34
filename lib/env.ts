import { z } from "zod";

/**
 * The one place that reads process.env. Each process parses what it needs at
 * start (the web in instrumentation.ts, which `next build` does not run) and
 * caches it, so `next build` can import server modules without a database
 * configured, and the worker does not need the web's secrets.
 */
const databaseSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z.url({ message: "DATABASE_URL must be a postgres:// connection URL" }),
});

/** Upload settings: every one optional, so modules may read them at import time (next build). */
const uploadSchema = z.object({
  /** Largest accepted upload in bytes, enforced while the bytes stream in (default 100 MB). */
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 40)
    .default(100 * 1024 * 1024),
  /** When set, browsers upload straight to UploadThing; otherwise into the local store (Postgres). */
  UPLOADTHING_TOKEN: z.string().min(1).optional(),
});

const webSchema = databaseSchema.extend(uploadSchema.shape).extend({
  /** Pool size of the web's postgres.js client (keep it small per serverless function). */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  AUTH_SECRET: z.string().min(32, "AUTH_SECRET must be at least 32 characters (openssl rand -base64 32)"),
  /** Renders with more pixels than this go to the large queue (workers started with --only large). */
  LARGE_RENDER_PIXELS: z.coerce.number().int().min(1).optional(),
  /** Bearer token a Prometheus scraper sends to GET /api/metrics; the route is a 404 when unset. */
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  /** Proxies in front of the web that append to X-Forwarded-For (Vercel, or one load balancer: 1). */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
});

const workerSchema = databaseSchema.extend({
  /** Jobs run at once per worker process; renders share one thread pool per process. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Render threads per worker process (default: every core). */
  RENDER_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  /** Heartbeat period; a worker silent for WORKER_STALE_AFTER_MS is lost and its jobs are released. */
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).optional(),
  WORKER_STALE_AFTER_MS: z.coerce.number().int().min(500).max(600_000).optional(),
  /** On SIGTERM, how long running jobs may take to finish before they are handed back. */
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).optional(),
  /** Days after which superseded, cancelled and failed results (and their images) are purged. */
  RESULT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).optional(),
  /** A render still running after this long is stopped and fails for good (default 2 h: jobs/time-limit.ts). */
  RENDER_TIME_LIMIT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(7 * 24 * 3_600_000)
    .optional(),
  /** As for the web: scheduled renders with more pixels than this go to the large queue. */
  LARGE_RENDER_PIXELS: z.coerce.number().int().min(1).optional(),
  /** Port of the worker's Prometheus metrics (GET /metrics); off when unset. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * "true" lets watched sources on loopback and private networks be fetched:
   * only for tests and local development (otherwise anyone could make the worker
   * read internal services and cloud metadata).
   */
  WATCH_ALLOW_PRIVATE_HOSTS: z.stringbool().default(false),
});

/** The WebDAV server (webdav/main.ts): its port and its own pool; uploads obey the same size limit. */
const webdavSchema = databaseSchema.extend(uploadSchema.shape).extend({
  WEBDAV_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Interface to listen on (default: all, as the web does). */
  WEBDAV_HOSTNAME: z.string().min(1).optional(),
  WEBDAV_DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
});

/** `npm start` (scripts/lib/local-stack.ts) and `npm run admin`: where the local stack listens. */
const localStackSchema = z.object({
  /** The web's port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The embedded Postgres's port, used when DATABASE_URL is unset. */
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  WEBDAV_PORT: webdavSchema.shape.WEBDAV_PORT,
  DATABASE_URL: databaseSchema.shape.DATABASE_URL.optional(),
  AUTH_SECRET: webSchema.shape.AUTH_SECRET.optional(),
});

/** The test harness: a Postgres server on which the tests may create databases. */
const testSchema = z.object({
  TEST_DATABASE_URL: z.url({
    message: "TEST_DATABASE_URL must name a Postgres server the tests may create databases on (`npm test` provides one)",
  }),
});

export type WebEnv = z.infer<typeof webSchema>;
export type WorkerEnv = z.infer<typeof workerSchema>;

function parseEnv<T extends z.ZodType>(schema: T, processName: string): z.infer<T> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => {
        const name = issue.path.join(".");
        return `  ${name}: ${process.env[name] === undefined ? "not set" : issue.message}`;
      })
      .join("\n");
    throw new Error(`Invalid environment for the ${processName}:\n${problems}`);
  }
  return parsed.data;
}

let web: WebEnv | undefined;
let worker: WorkerEnv | undefined;

export const getWebEnv = (): WebEnv => (web ??= parseEnv(webSchema, "web"));
export const getWorkerEnv = (): WorkerEnv => (worker ??= parseEnv(workerSchema, "worker"));
let upload: z.infer<typeof uploadSchema> | undefined;
export const getUploadEnv = () => (upload ??= parseEnv(uploadSchema, "web"));
export const getMigrateEnv = () => parseEnv(databaseSchema, "migrate step");
export const getTestEnv = () => parseEnv(testSchema, "integration tests");
export const getWebdavEnv = () => parseEnv(webdavSchema, "WebDAV server");
export const getLocalStackEnv = () => parseEnv(localStackSchema, "local stack");

/** For a process's entry point: print the bad variables (no stack trace) and exit 1. */
export function getEnvOrExit<T>(getEnv: () => T): T {
  try {
    return getEnv();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

/** Every variable a Longrun process reads: .env.example lists each (a unit test checks). */
export const ENV_VARIABLES = [
  ...new Set([webSchema, workerSchema, webdavSchema, localStackSchema].flatMap((schema) => Object.keys(schema.shape))),
];
