import { NextRequest } from "next/server";
import { errorResponse } from "@/lib/errors";

export type BodyBytes = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; response: Response };

const tooLarge = (maxBytes: number) =>
  errorResponse("body_too_large", `The request body may be at most ${maxBytes} bytes`, { headers: { Connection: "close" } });

/**
 * A request's body, read only while it stays within `maxBytes`: a 413 as soon as
 * Content-Length says more, or as soon as the bytes counted so far do (a chunked
 * body has no Content-Length, and a declared one may lie), so an oversized body
 * is never held in memory.
 */
export async function readBodyWithin(request: Request, maxBytes: number): Promise<BodyBytes> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return { ok: false, response: tooLarge(maxBytes) };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return { ok: false, response: tooLarge(maxBytes) };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/**
 * For a handler that reads the body itself (next-auth's, UploadThing's): the request
 * reaches it only once its body is known to be within `maxBytes`, as a copy carrying those bytes.
 */
export function withBodyLimit(maxBytes: number, handler: (request: NextRequest) => Promise<Response>) {
  return async (request: NextRequest): Promise<Response> => {
    const body = await readBodyWithin(request, maxBytes);
    if (!body.ok) return body.response;
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    return handler(new NextRequest(request.url, { method: request.method, headers: request.headers, body: hasBody ? body.bytes : null }));
  };
}
