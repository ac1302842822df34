import { withUser } from "@/server/auth/guards";
import { uploadFileResponse } from "@/server/downloads";

export const GET = withUser<{ id: string }>(async (_request, { user, params }) => uploadFileResponse({ id: params.id, ownerId: user.id }));
