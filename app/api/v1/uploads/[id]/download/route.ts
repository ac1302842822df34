import { idParams } from "@/lib/api/schemas";
import { withApiToken } from "@/server/auth/guards";
import { uploadFileResponse } from "@/server/downloads";

/** The original bytes, streamed, as an attachment typed by their detected type. */
export const GET = withApiToken({ params: idParams, notFound: "No such file" }, async (_request, { user, params }) =>
  uploadFileResponse({ id: params.id, ownerId: user.id }),
);
