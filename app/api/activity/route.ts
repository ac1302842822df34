import { z } from "zod";
import { db } from "@/db";
import { listActivity } from "@/db/queries/results";
import { withUser } from "@/lib/auth/guards";
import { errorResponse } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";

const querySchema = z.object({ since: z.iso.datetime({ offset: true }).optional() });

/** Unfinished renders and those finished since `since`: what the app-wide toasts watch. */
export const GET = withUser(async (request, { user }) => {
  const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return errorResponse("bad_request", "since must be an ISO 8601 date-time");
  const now = new Date();
  const since = query.data.since ? new Date(query.data.since) : now;
  const items = await listActivity(db, { ownerId: user.id, since });
  return jsonWithEtag(request, { now: now.toISOString(), items });
});
