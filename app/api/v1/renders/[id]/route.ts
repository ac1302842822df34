import { db } from "@/db";
import { cancelResult, getRender } from "@/db/queries/results";
import { apiJson } from "@/server/api/respond";
import { toRenderView } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { errorResponse, notFound } from "@/lib/errors";
import { idSchema } from "@/lib/validation/configuration";

export const GET = withApiToken<{ id: string }>(async (_request, { user, params }) => {
  const render = idSchema.safeParse(params.id).success ? await getRender(db, { id: params.id, ownerId: user.id }) : null;
  return render ? apiJson(toRenderView(render)) : notFound("No such render");
});

/** Cancels a queued or running render (a running one stops at its next band); 409 once it has finished. */
export const DELETE = withApiToken<{ id: string }>(async (_request, { user, params }) => {
  if (!idSchema.safeParse(params.id).success) return notFound("No such render");
  const cancelled = await cancelResult(db, { resultId: params.id, ownerId: user.id });
  if (!cancelled.ok && cancelled.code === "not_found") return notFound("No such render");
  if (!cancelled.ok) return errorResponse("conflict", `This render has already finished (${cancelled.status})`);
  return apiJson(toRenderView((await getRender(db, { id: params.id, ownerId: user.id }))!));
});
