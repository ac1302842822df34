import { db } from "@/db";
import { listConfigurationStatuses } from "@/db/queries/configurations";
import { withUser } from "@/server/auth/guards";
import { jsonWithEtag } from "@/lib/http";

export const GET = withUser(async (request, { user }) => {
  const configurations = await listConfigurationStatuses(db, { ownerId: user.id });
  return jsonWithEtag(request, { configurations });
});
