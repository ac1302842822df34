import { db } from "@/db";
import { getResultDownload } from "@/db/queries/results";
import { getUploadDownload, getUploadThumbnail } from "@/db/queries/uploads";
import { readUploadBytes } from "@/db/storage";
import { renderFileName } from "@/lib/download-name";
import { errorResponse, notFound } from "@/lib/errors";
import { attachmentDisposition, FILE_RESPONSE_HEADERS, isSafeInlineImageType } from "@/lib/http";
import { downloadContentType } from "@/lib/uploads/media-types";

/** Downloads, the same for the web app's routes and the Jobs API (whose guards parse the id). Someone else's id is a 404. */

/** A finished render's PNG, named after its configuration and settings. */
export async function renderImageResponse(args: { resultId: string; ownerId: string }) {
  const download = await getResultDownload(db, args);
  if (!download) return notFound("No such render");
  if (download.status !== "succeeded" || !download.data) {
    return errorResponse("conflict", `This render has no picture yet (${download.status})`);
  }
  return new Response(new Uint8Array(download.data), {
    headers: {
      "Content-Type": "image/png",
      "Content-Length": String(download.data.length),
      "Content-Disposition": attachmentDisposition(renderFileName(download.configurationName, download.params)),
      "Cache-Control": "private, max-age=31536000, immutable",
      ...FILE_RESPONSE_HEADERS,
    },
  });
}

/**
 * An upload's original bytes, streamed from storage, always as an attachment
 * under the type detected from the content (never the one claimed), and any
 * page, SVG or script as plain text: with nosniff and a sandboxing CSP, an
 * uploaded page or script never runs in our origin.
 */
export async function uploadFileResponse(args: { id: string; ownerId: string }) {
  const upload = await getUploadDownload(db, args);
  if (!upload) return notFound("No such file");
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
      "Content-Type": downloadContentType(upload.detectedType),
      "Content-Length": String(upload.size),
      "Content-Disposition": attachmentDisposition(upload.name),
      ...FILE_RESPONSE_HEADERS,
      "Cache-Control": "private, no-cache",
    },
  });
}

/**
 * An upload's thumbnail, for the Jobs API (the web app's pages use /api/images/<sha256>):
 * 409 until there is one. Its URL stays the same when a reprocessed file gets a new
 * thumbnail, so the ETag (the content's sha256) is revalidated rather than cached for good.
 */
export async function uploadThumbnailResponse(request: Request, args: { id: string; ownerId: string }) {
  const upload = await getUploadThumbnail(db, args);
  if (!upload) return notFound("No such file");
  const { thumbnail } = upload;
  // Thumbnails are made as raster images; anything else is never served inline.
  if (!thumbnail || !isSafeInlineImageType(thumbnail.contentType)) {
    return errorResponse("conflict", "This file has no thumbnail (it is not an image, or its thumbnail is not made yet)");
  }
  const headers = { "Cache-Control": "private, no-cache", ETag: `"${thumbnail.sha256}"` };
  if (request.headers.get("if-none-match") === headers.ETag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(thumbnail.data), {
    headers: { ...headers, "Content-Type": thumbnail.contentType, "Content-Length": String(thumbnail.size), ...FILE_RESPONSE_HEADERS },
  });
}
