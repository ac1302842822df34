import { idParams } from "@/lib/api/schemas";
import { withApiToken } from "@/server/auth/guards";
import { uploadThumbnailResponse } from "@/server/downloads";

/** The thumbnail of an image file (what links.thumbnail points at); 409 until it is made. */
export const GET = withApiToken({ params: idParams, notFound: "No such file" }, async (request, { user, params }) =>
  uploadThumbnailResponse(request, { id: params.id, ownerId: user.id }),
);
