"use server";

import { db } from "@/db";
import { cancelResult, retryFailedResult } from "@/db/queries/results";
import { setUserTier } from "@/db/queries/users";
import { isAdmin, withActionUser } from "@/lib/auth/guards";
import { getWebEnv } from "@/lib/env";
import { idSchema } from "@/lib/validation/configuration";
import { z } from "zod";

export type AdminActionState = { ok: true } | { ok: false; message: string };

const NOT_FOUND = { ok: false, message: "Not found" } as const;

export const retryRenderAsAdmin = withActionUser(async (user, resultId: string): Promise<AdminActionState> => {
  if (!(await isAdmin(user.id)) || !idSchema.safeParse(resultId).success) return NOT_FOUND;
  return retryFailedResult(db, { resultId, largeRenderPixels: getWebEnv().LARGE_RENDER_PIXELS });
});

export const cancelRenderAsAdmin = withActionUser(async (user, resultId: string): Promise<AdminActionState> => {
  if (!(await isAdmin(user.id)) || !idSchema.safeParse(resultId).success) return NOT_FOUND;
  const cancelled = await cancelResult(db, { resultId, ownerId: "any" });
  return cancelled.ok ? { ok: true } : { ok: false, message: cancelled.code === "not_found" ? "Not found" : `Already ${cancelled.status}` };
});

const tierChangeSchema = z.object({ userId: z.uuid(), tier: z.enum(["free", "pro"]) });

export const changeUserTier = withActionUser(async (user, userId: string, tier: string): Promise<AdminActionState> => {
  const parsed = tierChangeSchema.safeParse({ userId, tier });
  if (!(await isAdmin(user.id)) || !parsed.success) return NOT_FOUND;
  return (await setUserTier(db, parsed.data)) ? { ok: true } : NOT_FOUND;
});
