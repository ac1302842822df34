import { eq, sql } from "drizzle-orm";
import type { RequestDoor, RequestWindow } from "@/lib/rate-limits";
import type { Executor } from "../client";
import { users } from "../schema";

export const RATE_WINDOW_SECONDS = 60;

/** Each door's window: its two columns on the person's row. */
const WINDOWS = {
  api: { startedAt: "apiWindowStartedAt", requests: "apiWindowRequests" },
  webdav: { startedAt: "webdavWindowStartedAt", requests: "webdavWindowRequests" },
} as const satisfies Record<RequestDoor, { startedAt: keyof typeof users.$inferSelect; requests: keyof typeof users.$inferSelect }>;

/**
 * Counts one request of a person through a door in the person's rate window for it: a fixed
 * minute from its first request. One UPDATE … RETURNING, so concurrent requests on any web
 * instance or WebDAV process count exactly, whichever of the person's tokens or sessions they
 * come with. Null when there is no such person.
 */
export async function countRequest(executor: Executor, args: { userId: string; door: RequestDoor }): Promise<RequestWindow | null> {
  const window = WINDOWS[args.door];
  const startedAt = users[window.startedAt];
  const requests = users[window.requests];
  const isWindowOpen = sql`${startedAt} > now() - make_interval(secs => ${RATE_WINDOW_SECONDS})`;
  const [row] = await executor
    .update(users)
    .set({
      [window.startedAt]: sql`case when ${isWindowOpen} then ${startedAt} else now() end`,
      [window.requests]: sql`case when ${isWindowOpen} then ${requests} + 1 else 1 end`,
    })
    .where(eq(users.id, args.userId))
    .returning({
      tier: users.tier,
      requestsInWindow: requests,
      windowResetsAt: sql<string>`${startedAt} + make_interval(secs => ${RATE_WINDOW_SECONDS})`,
    });
  return row ?? null;
}
