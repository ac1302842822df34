import { withUser } from "@/lib/auth/guards";
import { renderImageResponse } from "@/lib/downloads";

export const GET = withUser<{ id: string }>(async (_request, { user, params }) => renderImageResponse({ resultId: params.id, ownerId: user.id }));
