import { idParams } from "@/lib/api/schemas";
import { withApiToken } from "@/server/auth/guards";
import { renderImageResponse } from "@/server/downloads";

/** The PNG of a succeeded render; 409 before then. */
export const GET = withApiToken({ params: idParams, notFound: "No such render" }, async (_request, { user, params }) =>
  renderImageResponse({ resultId: params.id, ownerId: user.id }),
);
