import { db } from "@/db";
import { getUpload, removeUpload } from "@/db/queries/uploads";
import { apiJson } from "@/server/api/respond";
import { toUploadView } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { idParams } from "@/lib/api/schemas";

const uploadParams = { params: idParams, notFound: "No such file" };

export const GET = withApiToken(uploadParams, async (_request, { user, params }) => {
  const upload = await getUpload(db, { id: params.id, ownerId: user.id });
  return upload ? apiJson(toUploadView(upload)) : notFound("No such file");
});

/** Deletes the file with its bytes, thumbnail and processing: 204. */
export const DELETE = withApiToken(uploadParams, async (_request, { user, params }) => {
  if (!(await removeUpload(db, { id: params.id, ownerId: user.id }))) return notFound("No such file");
  return new Response(null, { status: 204 });
});
