import { db } from "@/db";
import { listUploads, storeUpload } from "@/db/queries/uploads";
import { FileTooLargeError } from "@/db/storage";
import { withUser } from "@/lib/auth/guards";
import { getWebEnv } from "@/lib/env";
import { errorResponse } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { parseDeclaredType, uploadNameSchema } from "@/lib/validation/upload";

/** The person's files with their processing steps: what the uploads page polls. */
export const GET = withUser(async (request, { user }) => {
  const uploads = await listUploads(db, { ownerId: user.id });
  return jsonWithEtag(request, { uploads });
});

/**
 * Upload to the local store: the raw bytes as the body, the file's name in
 * `?name=`, its claimed type as Content-Type. The body streams into storage and
 * is cut off past UPLOAD_MAX_BYTES (413, nothing kept); then the upload row and
 * its processing jobs commit together. Answers 201 with the upload's id.
 */
export const POST = withUser(async (request, { user }) => {
  const name = uploadNameSchema.safeParse(new URL(request.url).searchParams.get("name") ?? undefined);
  if (!name.success) return errorResponse("bad_request", name.error.issues[0].message);
  const maxBytes = getWebEnv().UPLOAD_MAX_BYTES;
  const tooLarge = () => errorResponse("file_too_large", new FileTooLargeError(maxBytes).message);
  const declaredLength = request.headers.get("content-length");
  if (Number(declaredLength) > maxBytes) return tooLarge();
  if (!request.body && declaredLength !== "0") return errorResponse("bad_request", "Send the file's bytes as the request body");

  let upload: { id: string };
  try {
    const declaredType = parseDeclaredType(request.headers.get("content-type"));
    upload = await storeUpload(db, bodyStream(request), { ownerId: user.id, name: name.data, declaredType }, { maxBytes });
  } catch (error) {
    if (error instanceof FileTooLargeError) return tooLarge();
    // The client went away mid-upload: nothing was kept, and nobody is left to read an answer.
    if (request.signal.aborted) return errorResponse("bad_request", "The upload was interrupted");
    throw error;
  }
  return Response.json({ id: upload.id }, { status: 201, headers: { Location: `/uploads/${upload.id}` } });
});

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
