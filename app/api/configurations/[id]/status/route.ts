import { db } from "@/db";
import { getConfigurationStatus } from "@/db/queries/configurations";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { idParamsSchema } from "@/lib/validation/configuration";

// Someone else's id answers exactly like a missing one.
export const GET = withUser({ params: idParamsSchema, notFound: "No such configuration" }, async (request, { user, params }) => {
  const status = await getConfigurationStatus(db, { id: params.id, ownerId: user.id });
  if (!status) return notFound("No such configuration");
  return jsonWithEtag(request, status);
});
