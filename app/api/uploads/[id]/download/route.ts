import { db } from "@/db";
import { getUploadDownload } from "@/db/queries/uploads";
import { readUploadBytes } from "@/db/storage";
import { withUser } from "@/lib/auth/guards";
import { notFound } from "@/lib/errors";
import { attachmentDisposition } from "@/lib/http";
import { BINARY_TYPE, TEXT_TYPE } from "@/lib/uploads/detect-type";
import { uploadIdSchema } from "@/lib/validation/upload";

/**
 * The original bytes, streamed from storage, always as an attachment under
 * the type detected from the content (never the one claimed): with nosniff
 * and a sandboxing CSP, an uploaded page or script never runs in our origin.
 */
export const GET = withUser<{ id: string }>(async (_request, { user, params }) => {
  if (!uploadIdSchema.safeParse(params.id).success) return notFound("No such file");
  const upload = await getUploadDownload(db, { id: params.id, ownerId: user.id });
  if (!upload) return notFound("No such file");
  const type = upload.detectedType === TEXT_TYPE ? `${TEXT_TYPE}; charset=utf-8` : (upload.detectedType ?? BINARY_TYPE);
  const chunks = readUploadBytes(db, upload);
  const body = new ReadableStream<Uint8Array>({
    // Pull: the next chunk is read from storage only when the client has taken the last one.
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": type,
      "Content-Length": String(upload.size),
      "Content-Disposition": attachmentDisposition(upload.name),
      "Content-Security-Policy": "sandbox; default-src 'none'",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "private, no-cache",
    },
  });
});
