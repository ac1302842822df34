import { z } from "zod";
import { uploadStepName } from "@/db/schema/uploads";
import { userTier } from "@/db/schema/users";

// The admin actions' arguments (app/(app)/admin/actions.ts), in order. A render's id is idSchema.

/** An upload step to retry or cancel (the dashboard's buttons): the upload's id, the step. */
export const uploadStepArgs = z.tuple([z.uuid(), z.enum(uploadStepName.enumValues)]);

/** A person's new tier (the Users page): their id, the tier. */
export const tierChangeArgs = z.tuple([z.uuid(), z.enum(userTier.enumValues)]);
