import { withUser } from "@/lib/auth/guards";
import { uploadFileResponse } from "@/lib/downloads";

export const GET = withUser<{ id: string }>(async (_request, { user, params }) => uploadFileResponse({ id: params.id, ownerId: user.id }));
