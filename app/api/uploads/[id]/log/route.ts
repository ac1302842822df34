import { db } from "@/db";
import { listJobLog } from "@/db/queries/job-logs";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { idParamsSchema } from "@/lib/validation/configuration";

/** An upload's processing log, oldest first; someone else's upload is a 404. */
export const GET = withUser({ params: idParamsSchema, notFound: "No such file" }, async (request, { user, params }) => {
  const lines = await listJobLog(db, { uploadId: params.id, ownerId: user.id });
  if (!lines) return notFound("No such file");
  return jsonWithEtag(request, { lines });
});
