"use server";

import { z } from "zod";
import { db } from "@/db";
import { cancelResult, retryFailedResult } from "@/db/queries/results";
import { cancelUploadStep, retryFailedUploadStep } from "@/db/queries/upload-jobs";
import { setUserTier } from "@/db/queries/users";
import { getWebEnv } from "@/lib/env";
import { tierChangeArgs, uploadStepArgs } from "@/lib/validation/admin";
import { idSchema } from "@/lib/validation/configuration";
import { defineAction } from "@/server/actions";

// Anyone but an admin, and arguments that name nothing, get "Not found" (the helper's refusal).
const NOT_FOUND = "Not found";

export const retryRenderAsAdmin = defineAction({ role: "admin", args: z.tuple([idSchema]) }, async ({ args: [resultId] }) => {
  const retried = await retryFailedResult(db, { resultId, largeRenderPixels: getWebEnv().LARGE_RENDER_PIXELS });
  return retried.ok ? {} : { formError: retried.message };
});

export const cancelRenderAsAdmin = defineAction({ role: "admin", args: z.tuple([idSchema]) }, async ({ args: [resultId] }) => {
  const cancelled = await cancelResult(db, { resultId, ownerId: "any" });
  if (cancelled.ok) return {};
  return { formError: cancelled.code === "not_found" ? NOT_FOUND : `Already ${cancelled.status}` };
});

export const retryUploadStepAsAdmin = defineAction({ role: "admin", args: uploadStepArgs }, async ({ args: [uploadId, step] }) =>
  (await retryFailedUploadStep(db, { uploadId, step })) ? {} : { formError: "Only a failed step can be retried" },
);

export const cancelUploadStepAsAdmin = defineAction({ role: "admin", args: uploadStepArgs }, async ({ args: [uploadId, step] }) =>
  (await cancelUploadStep(db, { uploadId, step })) ? {} : { formError: "This step has already finished" },
);

export const changeUserTier = defineAction({ role: "admin", args: tierChangeArgs }, async ({ args: [userId, tier] }) =>
  (await setUserTier(db, { userId, tier })) ? {} : { formError: NOT_FOUND },
);
