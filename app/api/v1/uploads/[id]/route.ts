import { db } from "@/db";
import { getUpload, removeUpload } from "@/db/queries/uploads";
import { apiJson } from "@/server/api/respond";
import { toUploadView } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { idSchema } from "@/lib/validation/configuration";

export const GET = withApiToken<{ id: string }>(async (_request, { user, params }) => {
  const upload = idSchema.safeParse(params.id).success ? await getUpload(db, { id: params.id, ownerId: user.id }) : null;
  return upload ? apiJson(toUploadView(upload)) : notFound("No such file");
});

/** Deletes the file with its bytes, thumbnail and processing: 204. */
export const DELETE = withApiToken<{ id: string }>(async (_request, { user, params }) => {
  const removed = idSchema.safeParse(params.id).success && (await removeUpload(db, { id: params.id, ownerId: user.id }));
  if (!removed) return notFound("No such file");
  return new Response(null, { status: 204 });
});
