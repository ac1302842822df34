import { db } from "@/db";
import { listJobLog } from "@/db/queries/job-logs";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { uploadIdSchema } from "@/lib/validation/upload";

/** An upload's processing log, oldest first; someone else's upload is a 404. */
export const GET = withUser<{ id: string }>(async (request, { user, params }) => {
  if (!uploadIdSchema.safeParse(params.id).success) return notFound("No such file");
  const lines = await listJobLog(db, { uploadId: params.id, ownerId: user.id });
  if (!lines) return notFound("No such file");
  return jsonWithEtag(request, { lines });
});
