import { z } from "zod";
import { uploadStepName } from "@/db/schema/uploads";
import { userTier } from "@/db/schema/users";

// The admin actions' arguments (app/(app)/admin/actions.ts). A render's id is idSchema.

/** An upload step to retry or cancel (the dashboard's buttons). */
export const uploadStepSchema = z.object({ uploadId: z.uuid(), step: z.enum(uploadStepName.enumValues) });

/** A person's new tier (the Users page). */
export const tierChangeSchema = z.object({ userId: z.uuid(), tier: z.enum(userTier.enumValues) });
