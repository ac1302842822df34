import { db } from "@/db";
import { getRender } from "@/db/queries/results";
import { getUpload } from "@/db/queries/uploads";
import { apiJson } from "@/server/api/respond";
import { renderAsJob, toRenderView, toUploadView, uploadAsJob } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { idSchema } from "@/lib/validation/configuration";

/** One view over renders and uploads: what a script polls when it only holds an id. */
export const GET = withApiToken<{ id: string }>(async (_request, { user, params }) => {
  if (!idSchema.safeParse(params.id).success) return notFound("No such job");
  const owned = { id: params.id, ownerId: user.id };
  const [render, upload] = await Promise.all([getRender(db, owned), getUpload(db, owned)]);
  if (render) return apiJson(renderAsJob(toRenderView(render)));
  if (upload) return apiJson(uploadAsJob(toUploadView(upload)));
  return notFound("No such job");
});
