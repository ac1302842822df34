import { db } from "@/db";
import { getConfiguration, saveConfiguration } from "@/db/queries/configurations";
import { runIdempotently } from "@/db/queries/idempotency";
import { getRender, listRenders } from "@/db/queries/results";
import { UNFINISHED_STATUSES } from "@/db/schema";
import { apiJson, idempotencyKeyOf, idempotentResponse, parseJsonBody, parseQuery, refusal, unknownCursor } from "@/server/api/respond";
import { createRenderSchema, listRendersQuery, RENDER_REQUEST_MAX_BYTES } from "@/lib/api/schemas";
import { toRenderView } from "@/server/api/views";
import { withApiToken } from "@/server/auth/guards";
import { getWebEnv } from "@/lib/env";

const isUnfinished = (status: string) => (UNFINISHED_STATUSES as readonly string[]).includes(status);

/** The token owner's renders, newest first; `cursor` is the previous page's nextCursor. */
export const GET = withApiToken(async (request, { user }) => {
  const query = parseQuery(request, listRendersQuery);
  if (!query.ok) return query.response;
  const { status, cursor, limit } = query.data;
  if (cursor !== undefined && !(await getRender(db, { id: cursor, ownerId: user.id }))) return unknownCursor();
  const rows = await listRenders(db, { ownerId: user.id, status, afterId: cursor, limit: limit + 1 });
  const items = rows.slice(0, limit).map(toRenderView);
  return apiJson({ items, nextCursor: rows.length > limit ? items.at(-1)!.id : null });
});

/**
 * Starts a render: the configuration, its queued result and the job commit in
 * one transaction (with the Idempotency-Key, if sent). 202 while it is queued or
 * running; 200 when these settings already have a finished render (nothing new starts).
 */
export const POST = withApiToken(async (request, { user }) => {
  const body = await parseJsonBody(request, { schema: createRenderSchema, maxBytes: RENDER_REQUEST_MAX_BYTES });
  if (!body.ok) return body.response;
  const key = idempotencyKeyOf(request, user.id, body.data);
  if (!key.ok) return key.response;
  const { configurationId, name, ...params } = body.data;

  const outcome = await runIdempotently(db, key.data, async (tx) => {
    const existing = configurationId ? await getConfiguration(tx, { id: configurationId, ownerId: user.id }) : null;
    if (configurationId && !existing) return refusal("not_found", "No such configuration");
    const saved = await saveConfiguration(tx, {
      ownerId: user.id,
      configurationId,
      input: { name: name ?? existing?.name ?? "API render", ...params },
      largeRenderPixels: getWebEnv().LARGE_RENDER_PIXELS,
    });
    if (!saved.ok) return saved.code === "not_found" ? refusal("not_found", "No such configuration") : refusal(saved.code, saved.message);
    const render = toRenderView(await getRender(tx, { id: saved.resultId, ownerId: user.id }));
    return { status: isUnfinished(render.status) ? 202 : 200, body: render, location: render.links.self };
  });
  return idempotentResponse(outcome);
});
