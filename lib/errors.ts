/** Stable error codes of JSON responses; clients may switch on them. */
export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "conflict"
  | "file_too_large"
  | "body_too_large"
  | "size_limit"
  | "render_limit"
  | "storage_quota_exceeded"
  | "idempotency_key_reused"
  | "rate_limited"
  | "internal"
  | "unavailable";

export const ERROR_STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  bad_request: 400,
  conflict: 409,
  file_too_large: 413,
  /** A JSON (or sign-in) request body past its route's limit; refused before it is parsed. */
  body_too_large: 413,
  /** Larger than the account's tier may render. */
  size_limit: 403,
  /** The account already has its tier's number of unfinished renders; retry once one finishes. */
  render_limit: 409,
  /** The file does not fit in the account's storage quota (its tier's bytes and files); nothing was kept. */
  storage_quota_exceeded: 413,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal: 500,
  /** The database cannot be reached for a moment (a restart, a failover); retry after Retry-After. */
  unavailable: 503,
};

/** Which field was wrong and why, for a request body or query that failed validation. */
export type FieldError = { field: string; message: string };

export function errorResponse(code: ErrorCode, message: string, options: { fields?: FieldError[]; headers?: HeadersInit } = {}) {
  const error = options.fields ? { code, message, fields: options.fields } : { code, message };
  const headers = new Headers(options.headers);
  headers.set("Cache-Control", "no-store");
  return Response.json({ error }, { status: ERROR_STATUS[code], headers });
}

export const notFound = (what = "Not found") => errorResponse("not_found", what);

/** Error codes (postgres.js's own and SQLSTATEs) that mean the database is unreachable or going away, not that the query was wrong. */
const DATABASE_UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up)
  "08000",
  "08003",
  "08006",
]);

/** An error and its causes, outermost first: drizzle wraps the driver's error in its own. */
function* errorChain(error: unknown) {
  for (
    let current = error, depth = 0;
    current && typeof current === "object" && depth < 5;
    current = (current as { cause?: unknown }).cause, depth++
  ) {
    yield current as { code?: unknown; message?: unknown };
  }
}

/** Whether an error (or its cause) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const { code } of errorChain(error)) if (typeof code === "string" && DATABASE_UNAVAILABLE_CODES.has(code)) return true;
  return false;
}

/**
 * What went wrong, in words: for a failed query, the database's or the
 * driver's reason ("canceling statement due to lock timeout"), rather than
 * drizzle's message, which is the statement and its parameters.
 */
export function describeError(error: unknown): string {
  for (const { code, message } of errorChain(error)) if (typeof code === "string" && typeof message === "string") return message;
  return error instanceof Error ? error.message : String(error);
}
