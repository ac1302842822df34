import { db } from "@/db";
import { getUpload, listUploads } from "@/db/queries/uploads";
import { apiJson, idempotencyKeyOf, parseQuery, unknownCursor } from "@/server/api/respond";
import { listUploadsQuery, uploadQuery } from "@/lib/api/schemas";
import { toUploadView } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { receiveUpload } from "@/server/upload-request";

/** The token owner's files, newest first; `cursor` is the previous page's nextCursor. */
export const GET = withApiToken(async (request, { user }) => {
  const query = parseQuery(request, listUploadsQuery);
  if (!query.ok) return query.response;
  const { cursor, limit } = query.data;
  if (cursor !== undefined && !(await getUpload(db, { id: cursor, ownerId: user.id }))) return unknownCursor();
  const rows = await listUploads(db, { ownerId: user.id, afterId: cursor, limit: limit + 1 });
  const items = rows.slice(0, limit).map(toUploadView);
  return apiJson({ items, nextCursor: rows.length > limit ? items.at(-1)!.id : null });
});

/**
 * Uploads the body's bytes (streamed; `?name=` names the file, Content-Type is
 * its claimed type). 202: the upload is stored and its processing queued, in one transaction.
 */
export const POST = withApiToken(async (request, { user }) => {
  const query = parseQuery(request, uploadQuery);
  if (!query.ok) return query.response;
  const key = idempotencyKeyOf(request, user.id, [
    query.data.name,
    request.headers.get("content-type"),
    request.headers.get("content-length"),
  ]);
  if (!key.ok) return key.response;
  return receiveUpload(request, {
    ownerId: user.id,
    key: key.data,
    respond: async (tx, id) => {
      const upload = toUploadView(await getUpload(tx, { id, ownerId: user.id }));
      return { status: 202, body: upload, location: upload.links.self };
    },
  });
});
