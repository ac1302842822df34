import { db } from "@/db";
import { cancelResult, getRender } from "@/db/queries/results";
import { apiJson } from "@/server/api/respond";
import { toRenderView } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { errorResponse, notFound } from "@/lib/errors";
import { idParams } from "@/lib/api/schemas";

const renderParams = { params: idParams, notFound: "No such render" };

export const GET = withApiToken(renderParams, async (_request, { user, params }) => {
  const render = await getRender(db, { id: params.id, ownerId: user.id });
  return render ? apiJson(toRenderView(render)) : notFound("No such render");
});

/** Cancels a queued or running render (a running one stops at its next band); 409 once it has finished. */
export const DELETE = withApiToken(renderParams, async (_request, { user, params }) => {
  const cancelled = await cancelResult(db, { resultId: params.id, ownerId: user.id });
  if (!cancelled.ok && cancelled.code === "not_found") return notFound("No such render");
  if (!cancelled.ok) return errorResponse("conflict", `This render has already finished (${cancelled.status})`);
  return apiJson(toRenderView(await getRender(db, { id: params.id, ownerId: user.id })));
});
