/** Stable error codes of JSON responses; clients may switch on them. */
export type ErrorCode = "unauthorized" | "not_found" | "bad_request" | "conflict" | "file_too_large" | "internal";

const STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  not_found: 404,
  bad_request: 400,
  conflict: 409,
  file_too_large: 413,
  internal: 500,
};

export function errorResponse(code: ErrorCode, message: string) {
  return Response.json({ error: { code, message } }, { status: STATUS[code], headers: { "Cache-Control": "no-store" } });
}

export const notFound = (what = "Not found") => errorResponse("not_found", what);
