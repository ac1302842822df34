import { db } from "@/db";
import { getConfigurationStatus } from "@/db/queries/configurations";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { jsonWithEtag } from "@/lib/http";
import { idSchema } from "@/lib/validation/configuration";

// Someone else's id answers exactly like a missing one.
export const GET = withUser<{ id: string }>(async (request, { user, params }) => {
  const id = idSchema.safeParse(params.id);
  if (!id.success) return notFound("No such configuration");
  const status = await getConfigurationStatus(db, { id: id.data, ownerId: user.id });
  if (!status) return notFound("No such configuration");
  return jsonWithEtag(request, status);
});
