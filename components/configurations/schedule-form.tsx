"use client";

import { useActionState, useState, useSyncExternalStore, useTransition } from "react";
import { toast } from "sonner";
import { deleteSchedule, saveSchedule } from "@/app/(app)/configurations/actions";
import type { ScheduleView } from "@/db/queries/schedules";
import { describeSchedule, WEEKDAYS, type ScheduleField } from "@/lib/schedules";
import { describedBy, Field } from "../form-field";

const REPEATS = [
  { value: "once", label: "Once" },
  { value: "daily", label: "Every day" },
  { value: "weekdays", label: "Every weekday" },
  { value: "weekly", label: "Every week" },
] as const;

const neverChanges = () => () => {};

/** Schedule a configuration to render again, in the browser's time zone; shows the next run. */
export function ScheduleForm({ configurationId, schedule }: { configurationId: string; schedule: ScheduleView | null }) {
  const [state, formAction, isPending] = useActionState(saveSchedule.bind(null, configurationId), {});
  const [isRemoving, startRemoving] = useTransition();
  const value = (name: ScheduleField, fallback: string) => state.values?.[name] ?? fallback;
  const [repeat, setRepeat] = useState(value("repeat", schedule?.repeat ?? "daily"));
  // The browser knows the person's time zone; the server render does not (it says UTC until hydrated).
  const browserTimeZone = useSyncExternalStore(
    neverChanges,
    () => Intl.DateTimeFormat().resolvedOptions().timeZone,
    () => "UTC",
  );
  const timeZone = schedule?.timeZone ?? browserTimeZone;
  const errorOf = (name: ScheduleField) => state.fieldErrors?.[name]?.[0];

  return (
    <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Schedule">
      <h2 className="font-medium">Schedule</h2>
      {schedule ? (
        <div className="space-y-1 text-sm" data-testid="schedule-summary">
          <p>{describeSchedule(schedule)}</p>
          <p className="text-slate-600">
            Next run:{" "}
            {schedule.nextRunAt ? (
              <time dateTime={schedule.nextRunAt} suppressHydrationWarning>
                {new Date(schedule.nextRunAt).toLocaleString(undefined, {
                  timeZone: schedule.timeZone,
                  dateStyle: "medium",
                  timeStyle: "short",
                })}
              </time>
            ) : (
              "none (done)"
            )}
          </p>
          {schedule.lastRunAt && (
            <p className="text-slate-600" suppressHydrationWarning>
              Last run: {new Date(schedule.lastRunAt).toLocaleString()}
              {schedule.lastMessage ? `: ${schedule.lastMessage}` : ""}
            </p>
          )}
          <button
            type="button"
            className="button"
            disabled={isRemoving}
            onClick={() =>
              startRemoving(async () => {
                const outcome = await deleteSchedule(configurationId);
                if (outcome.formError) toast.error(outcome.formError);
              })
            }
          >
            Remove schedule
          </button>
        </div>
      ) : (
        <p className="text-sm text-slate-600">Not scheduled. Render these settings again at a time of your choosing.</p>
      )}
      <form key={state.submission ?? 0} action={formAction} noValidate className="space-y-3" aria-label="Schedule form">
        {state.formError && (
          <p role="alert" className="rounded-md bg-red-50 p-2 text-sm text-red-700">
            {state.formError}
          </p>
        )}
        <input type="hidden" name="timeZone" value={timeZone} />
        <div className="grid grid-cols-2 gap-3">
          <Field name="repeat" label="Repeat" error={errorOf("repeat")}>
            <select id="repeat" name="repeat" className="input" value={repeat} onChange={(event) => setRepeat(event.target.value)}>
              {REPEATS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </Field>
          {repeat === "once" && (
            <Field name="date" label="Date" error={errorOf("date")}>
              <input
                id="date"
                name="date"
                type="date"
                className="input"
                defaultValue={value("date", schedule?.repeat === "once" ? schedule.date : "")}
                {...describedBy("date", errorOf("date"))}
              />
            </Field>
          )}
          {repeat === "weekly" && (
            <Field name="weekday" label="Day" error={errorOf("weekday")}>
              <select
                id="weekday"
                name="weekday"
                className="input"
                defaultValue={value("weekday", schedule?.repeat === "weekly" ? String(schedule.weekday) : "1")}
              >
                {WEEKDAYS.map((day, index) => (
                  <option key={day} value={index}>
                    {day}
                  </option>
                ))}
              </select>
            </Field>
          )}
          <Field name="time" label="Time" error={errorOf("time")}>
            <input
              id="time"
              name="time"
              type="time"
              className="input"
              defaultValue={value("time", schedule?.time ?? "07:30")}
              {...describedBy("time", errorOf("time"))}
            />
          </Field>
        </div>
        <p className="text-xs text-slate-500">Times are in {timeZone}.</p>
        {errorOf("timeZone") && <p className="text-sm text-red-600">{errorOf("timeZone")}</p>}
        <button type="submit" className="button" disabled={isPending}>
          {isPending ? "Saving…" : schedule ? "Update schedule" : "Save schedule"}
        </button>
      </form>
    </section>
  );
}
