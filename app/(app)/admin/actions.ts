"use server";

import { db } from "@/db";
import { cancelResult, retryFailedResult } from "@/db/queries/results";
import { cancelUploadStep, retryFailedUploadStep } from "@/db/queries/upload-jobs";
import { setUserTier } from "@/db/queries/users";
import { isAdmin, withActionUser } from "@/server/auth/guards";
import { getWebEnv } from "@/lib/env";
import { tierChangeSchema, uploadStepSchema } from "@/lib/validation/admin";
import { idSchema } from "@/lib/validation/configuration";

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

export const retryUploadStepAsAdmin = withActionUser(async (user, uploadId: string, step: string): Promise<AdminActionState> => {
  const parsed = uploadStepSchema.safeParse({ uploadId, step });
  if (!(await isAdmin(user.id)) || !parsed.success) return NOT_FOUND;
  return (await retryFailedUploadStep(db, parsed.data)) ? { ok: true } : { ok: false, message: "Only a failed step can be retried" };
});

export const cancelUploadStepAsAdmin = withActionUser(async (user, uploadId: string, step: string): Promise<AdminActionState> => {
  const parsed = uploadStepSchema.safeParse({ uploadId, step });
  if (!(await isAdmin(user.id)) || !parsed.success) return NOT_FOUND;
  return (await cancelUploadStep(db, parsed.data)) ? { ok: true } : { ok: false, message: "This step has already finished" };
});

export const changeUserTier = withActionUser(async (user, userId: string, tier: string): Promise<AdminActionState> => {
  const parsed = tierChangeSchema.safeParse({ userId, tier });
  if (!(await isAdmin(user.id)) || !parsed.success) return NOT_FOUND;
  return (await setUserTier(db, parsed.data)) ? { ok: true } : NOT_FOUND;
});
