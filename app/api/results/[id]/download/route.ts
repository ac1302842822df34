import { idParamsSchema } from "@/lib/validation/configuration";
import { withUser } from "@/server/auth/guards";
import { renderImageResponse } from "@/server/downloads";

export const GET = withUser({ params: idParamsSchema, notFound: "No such render" }, async (_request, { user, params }) =>
  renderImageResponse({ resultId: params.id, ownerId: user.id }),
);
