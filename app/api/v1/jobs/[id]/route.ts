import { db } from "@/db";
import { getRender } from "@/db/queries/results";
import { getUpload } from "@/db/queries/uploads";
import { apiJson } from "@/server/api/respond";
import { renderAsJob, toRenderView, toUploadView, uploadAsJob } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { idParams } from "@/lib/api/schemas";

/** One view over renders and uploads: what a script polls when it only holds an id. */
export const GET = withApiToken({ params: idParams, notFound: "No such job" }, async (_request, { user, params }) => {
  const owned = { id: params.id, ownerId: user.id };
  const [render, upload] = await Promise.all([getRender(db, owned), getUpload(db, owned)]);
  if (render) return apiJson(renderAsJob(toRenderView(render)));
  if (upload) return apiJson(uploadAsJob(toUploadView(upload)));
  return notFound("No such job");
});
