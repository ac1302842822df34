import { withApiToken } from "@/lib/auth/guards";
import { uploadFileResponse } from "@/lib/downloads";

/** The original bytes, streamed, as an attachment typed by their detected type. */
export const GET = withApiToken<{ id: string }>(async (_request, { user, params }) => uploadFileResponse({ id: params.id, ownerId: user.id }));
