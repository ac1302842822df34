/** Stable error codes of JSON responses; clients may switch on them. */
export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "conflict"
  | "file_too_large"
  | "size_limit"
  | "render_limit"
  | "idempotency_key_reused"
  | "rate_limited"
  | "internal";

export const ERROR_STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  bad_request: 400,
  conflict: 409,
  file_too_large: 413,
  /** Larger than the account's tier may render. */
  size_limit: 403,
  /** The account already has its tier's number of unfinished renders; retry once one finishes. */
  render_limit: 409,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal: 500,
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
