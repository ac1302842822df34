"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { db } from "@/db";
import { saveConfiguration as saveConfigurationRow } from "@/db/queries/configurations";
import { cancelResult } from "@/db/queries/results";
import { removeSchedule, saveSchedule as saveScheduleRow } from "@/db/queries/schedules";
import { getWebEnv } from "@/lib/env";
import { scheduleInputSchema } from "@/lib/schedules";
import { configurationInputSchema, idSchema } from "@/lib/validation/configuration";
import { defineAction } from "@/server/actions";

const NO_SUCH_CONFIGURATION = "This configuration does not exist";
const NO_SUCH_RENDER = "This render does not exist";

/** Creates (a null id) or updates a configuration and queues its render, in one transaction. */
export const saveConfiguration = defineAction(
  { role: "user", args: z.tuple([idSchema.nullable()]), form: configurationInputSchema, refusal: NO_SUCH_CONFIGURATION },
  async ({ args: [configurationId], form }, user) => {
    const saved = await saveConfigurationRow(db, {
      ownerId: user.id,
      configurationId: configurationId ?? undefined,
      input: form,
      largeRenderPixels: getWebEnv().LARGE_RENDER_PIXELS,
    });
    if (!saved.ok && saved.code === "size_limit") return { fieldErrors: { width: [saved.message], height: [saved.message] } };
    if (!saved.ok && saved.code === "render_limit") return { formError: saved.message };
    if (!saved.ok) return { formError: NO_SUCH_CONFIGURATION };
    if (configurationId === null) redirect(`/configurations/${saved.configurationId}`);
    return { data: { resultId: saved.resultId, isNewRender: saved.isNewRender } };
  },
);

/** Stops a queued or running render (a running one at its next band of rows). */
export const cancelRender = defineAction(
  { role: "user", args: z.tuple([idSchema]), refusal: NO_SUCH_RENDER },
  async ({ args: [resultId] }, user) => {
    const cancelled = await cancelResult(db, { resultId, ownerId: user.id });
    if (cancelled.ok) return {};
    return { formError: cancelled.code === "not_found" ? NO_SUCH_RENDER : `This render already finished (${cancelled.status})` };
  },
);

/** Schedules a configuration to render again, once or repeatedly, in the person's time zone. */
export const saveSchedule = defineAction(
  { role: "user", args: z.tuple([idSchema]), form: scheduleInputSchema, refusal: NO_SUCH_CONFIGURATION },
  async ({ args: [configurationId], form }, user) => {
    const saved = await saveScheduleRow(db, { configurationId, ownerId: user.id, input: form });
    if (!saved.ok && saved.code === "in_the_past") return { fieldErrors: { time: ["That time has already passed"] } };
    if (!saved.ok) return { formError: NO_SUCH_CONFIGURATION };
    revalidatePath(`/configurations/${configurationId}`);
    return {};
  },
);

/** Stops a configuration's schedule. */
export const deleteSchedule = defineAction(
  { role: "user", args: z.tuple([idSchema]), refusal: NO_SUCH_CONFIGURATION },
  async ({ args: [configurationId] }, user) => {
    if (!(await removeSchedule(db, { configurationId, ownerId: user.id }))) return { formError: "This configuration has no schedule" };
    revalidatePath(`/configurations/${configurationId}`);
    return {};
  },
);
