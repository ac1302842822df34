import { db } from "@/db";
import { getUpload } from "@/db/queries/uploads";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { idParamsSchema } from "@/lib/validation/configuration";

/** One file with its processing steps: what its page polls. Someone else's file is a 404. */
export const GET = withUser({ params: idParamsSchema, notFound: "No such file" }, async (request, { user, params }) => {
  const upload = await getUpload(db, { id: params.id, ownerId: user.id });
  if (!upload) return notFound("No such file");
  return jsonWithEtag(request, { upload });
});
