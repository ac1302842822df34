import { withUser } from "@/server/auth/guards";
import { renderImageResponse } from "@/server/downloads";

export const GET = withUser<{ id: string }>(async (_request, { user, params }) => renderImageResponse({ resultId: params.id, ownerId: user.id }));
