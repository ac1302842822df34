import { idParamsSchema } from "@/lib/validation/configuration";
import { withUser } from "@/server/auth/guards";
import { uploadFileResponse } from "@/server/downloads";

export const GET = withUser({ params: idParamsSchema, notFound: "No such file" }, async (_request, { user, params }) =>
  uploadFileResponse({ id: params.id, ownerId: user.id }),
);
