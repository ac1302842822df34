"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { db } from "@/db";
import { saveConfiguration as saveConfigurationQuery } from "@/db/queries/configurations";
import { cancelResult } from "@/db/queries/results";
import { removeSchedule, saveSchedule as saveScheduleQuery } from "@/db/queries/schedules";
import { scheduleInputSchema, type ScheduleField } from "@/lib/schedules";
import { withActionUser } from "@/server/auth/guards";
import { getWebEnv } from "@/lib/env";
import { configurationInputSchema, idSchema, type ConfigurationField } from "@/lib/validation/configuration";
import { formValues } from "@/lib/validation/form-data";

export type SaveConfigurationState = {
  fieldErrors?: Partial<Record<ConfigurationField, string[]>>;
  formError?: string;
  /** What the person typed, so a rejected form keeps their input. */
  values?: Record<string, string>;
  /** Changes on every submission (the form remounts with `values`). */
  submission?: number;
  saved?: { resultId: string; isNewRender: boolean; at: number };
};

/** Creates (no id) or updates a configuration and queues its render, in one transaction. */
export const saveConfiguration = withActionUser(
  async (user, configurationId: string | null, _previous: SaveConfigurationState, formData: FormData): Promise<SaveConfigurationState> => {
    const values = formValues(formData);
    const submission = Date.now();
    if (configurationId !== null && !idSchema.safeParse(configurationId).success) {
      return { formError: "This configuration does not exist", values, submission };
    }
    const parsed = configurationInputSchema.safeParse(values);
    if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors, values, submission };

    let saved;
    try {
      saved = await saveConfigurationQuery(db, {
        ownerId: user.id,
        configurationId: configurationId ?? undefined,
        input: parsed.data,
        largeRenderPixels: getWebEnv().LARGE_RENDER_PIXELS,
      });
    } catch (error) {
      console.error("saveConfiguration failed", error);
      return { formError: "Could not save right now; nothing was changed. Try again.", values, submission };
    }
    if (!saved.ok && saved.code === "size_limit") {
      return { fieldErrors: { width: [saved.message], height: [saved.message] }, values, submission };
    }
    if (!saved.ok && saved.code === "render_limit") return { formError: saved.message, values, submission };
    if (!saved.ok) return { formError: "This configuration does not exist", values, submission };
    if (configurationId === null) redirect(`/configurations/${saved.configurationId}`);
    return { values, submission, saved: { resultId: saved.resultId, isNewRender: saved.isNewRender, at: submission } };
  },
);

export type CancelRenderState = { ok: true } | { ok: false; message: string };

export const cancelRender = withActionUser(async (user, resultId: string): Promise<CancelRenderState> => {
  if (!idSchema.safeParse(resultId).success) return { ok: false, message: "This render does not exist" };
  let cancelled;
  try {
    cancelled = await cancelResult(db, { resultId, ownerId: user.id });
  } catch (error) {
    console.error("cancelResult failed", error);
    return { ok: false, message: "Could not cancel right now; try again" };
  }
  if (cancelled.ok) return { ok: true };
  return {
    ok: false,
    message: cancelled.code === "not_found" ? "This render does not exist" : `This render already finished (${cancelled.status})`,
  };
});

export type SaveScheduleState = {
  fieldErrors?: Partial<Record<ScheduleField, string[]>>;
  formError?: string;
  values?: Record<string, string>;
  submission?: number;
  saved?: boolean;
};

/** Schedules a configuration to render again, once or repeatedly, in the person's time zone. */
export const saveScheduleAction = withActionUser(
  async (user, configurationId: string, _previous: SaveScheduleState, formData: FormData): Promise<SaveScheduleState> => {
    const values = formValues(formData);
    const submission = Date.now();
    if (!idSchema.safeParse(configurationId).success) return { formError: "This configuration does not exist", values, submission };
    const parsed = scheduleInputSchema.safeParse(values);
    if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors as SaveScheduleState["fieldErrors"], values, submission };
    const saved = await saveScheduleQuery(db, { configurationId, ownerId: user.id, input: parsed.data });
    if (!saved.ok && saved.code === "in_the_past") return { fieldErrors: { time: ["That time has already passed"] }, values, submission };
    if (!saved.ok) return { formError: "This configuration does not exist", values, submission };
    revalidatePath(`/configurations/${configurationId}`);
    return { values, submission, saved: true };
  },
);

export const removeScheduleAction = withActionUser(async (user, configurationId: string): Promise<void> => {
  if (!idSchema.safeParse(configurationId).success) return;
  await removeSchedule(db, { configurationId, ownerId: user.id });
  revalidatePath(`/configurations/${configurationId}`);
});
