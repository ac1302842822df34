import { db } from "@/db";
import { getDashboardOverview } from "@/db/queries/dashboard";
import { DEFAULT_STALE_AFTER_MS } from "@/db/queries/workers";
import { withAdmin } from "@/server/auth/guards";
import { jsonWithEtag } from "@/lib/http";

/** The admin dashboard's data; for anyone else, the same 404 as a missing route. */
export const GET = withAdmin(async (request) =>
  jsonWithEtag(request, await getDashboardOverview(db, { staleAfterMs: DEFAULT_STALE_AFTER_MS })),
);
