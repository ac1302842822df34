import { db } from "@/db";
import { getDatabaseTime, listActivity } from "@/db/queries/results";
import { withUser } from "@/server/auth/guards";
import { errorResponse } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { activityQuerySchema } from "@/lib/validation/activity";

/**
 * Unfinished renders and those finished since `since`: what the app-wide
 * toasts watch. Without `since`, it answers only the database's time, which
 * the client then uses as its first `since`.
 */
export const GET = withUser(async (request, { user }) => {
  const query = activityQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return errorResponse("bad_request", "since must be an ISO 8601 date-time");
  if (!query.data.since) return jsonWithEtag(request, { since: await getDatabaseTime(db), items: [] });
  const items = await listActivity(db, { ownerId: user.id, since: new Date(query.data.since) });
  return jsonWithEtag(request, { since: query.data.since, items });
});
