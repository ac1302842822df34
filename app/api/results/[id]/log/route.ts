import { db } from "@/db";
import { listJobLog } from "@/db/queries/job-logs";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { idParamsSchema } from "@/lib/validation/configuration";

/** A result's log lines, oldest first; someone else's result is a 404. */
export const GET = withUser({ params: idParamsSchema, notFound: "No such render" }, async (request, { user, params }) => {
  const lines = await listJobLog(db, { resultId: params.id, ownerId: user.id });
  if (!lines) return notFound("No such render");
  return jsonWithEtag(request, { lines });
});
