import { db } from "@/db";
import type { Executor } from "@/db/client";
import { findIdempotentResponse, runIdempotently, type IdempotencyKey, type StoredResponse } from "@/db/queries/idempotency";
import { StorageQuotaError } from "@/db/queries/storage-usage";
import { acceptUpload, storeThenAccept } from "@/db/queries/uploads";
import { FileTooLargeError } from "@/db/storage";
import { idempotentResponse } from "@/server/api/respond";
import { getWebEnv } from "@/lib/env";
import { errorResponse } from "@/lib/errors";
import { parseDeclaredType, uploadNameSchema } from "@/lib/validation/upload";

/**
 * An upload into the local store from a request, for the web app's route and
 * the Jobs API: the raw bytes as the body, the file's name in `?name=`, its
 * claimed type as Content-Type. The body streams into storage and is cut off
 * past UPLOAD_MAX_BYTES (413, nothing kept), or refused past the person's
 * storage quota (413 storage_quota_exceeded, nothing kept); then the upload row, its
 * processing jobs and `respond`'s answer commit in one transaction (with the
 * Idempotency-Key, if any: a retry gets the first answer and its bytes are dropped).
 */
export async function receiveUpload(
  request: Request,
  args: { ownerId: string; key: IdempotencyKey | null; respond: (tx: Executor, uploadId: string) => Promise<StoredResponse> },
): Promise<Response> {
  const name = uploadNameSchema.safeParse(new URL(request.url).searchParams.get("name") ?? undefined);
  if (!name.success)
    return errorResponse("bad_request", name.error.issues[0].message, {
      fields: [{ field: "name", message: name.error.issues[0].message }],
    });
  const maxBytes = getWebEnv().UPLOAD_MAX_BYTES;
  const tooLarge = () => errorResponse("file_too_large", new FileTooLargeError(maxBytes).message);
  const declaredLength = request.headers.get("content-length");
  if (Number(declaredLength) > maxBytes) return tooLarge();
  if (!request.body && declaredLength !== "0") return errorResponse("bad_request", "Send the file's bytes as the request body");
  if (args.key) {
    const earlier = await findIdempotentResponse(db, args.key);
    if (earlier) return idempotentResponse(earlier);
  }

  const declaredType = parseDeclaredType(request.headers.get("content-type"));
  try {
    const declaredBytes = declaredLength === null ? undefined : Number(declaredLength);
    const options = { maxBytes, ownerId: args.ownerId, declaredBytes: Number.isSafeInteger(declaredBytes) ? declaredBytes : undefined };
    const outcome = await storeThenAccept(db, bodyStream(request), options, async (stored) => {
      const idempotent = await runIdempotently(db, args.key, async (tx) => {
        const upload = await acceptUpload(tx, {
          ownerId: args.ownerId,
          name: name.data,
          declaredType,
          size: stored.size,
          storage: "local",
          storageKey: stored.key,
        });
        return args.respond(tx, upload.id);
      });
      // A retry that raced the first request gets its answer; its own bytes go.
      return { value: idempotent, keepBytes: idempotent.kind === "new" };
    });
    return idempotentResponse(outcome);
  } catch (error) {
    if (error instanceof FileTooLargeError) return tooLarge();
    if (error instanceof StorageQuotaError) return errorResponse("storage_quota_exceeded", error.message);
    // The client went away mid-upload: nothing was kept, and nobody is left to read an answer.
    if (request.signal.aborted) return errorResponse("bad_request", "The upload was interrupted");
    throw error;
  }
}

async function* bodyStream(request: Request): AsyncGenerator<Uint8Array> {
  if (!request.body) return;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Not cancel(): on Node 20, undici then closes the body stream a second time and throws
    // an uncaught error. Node discards a body left unread when the response ends.
    reader.releaseLock();
  }
}
