import { Cron } from "croner";
import { z } from "zod";

export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

const isTimeZone = (name: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Enter a time as HH:MM");
const timeZone = z.string().max(64).refine(isTimeZone, "Unknown time zone");
const date = z.iso.date({ message: "Enter a date" });

/** The schedule form: when to re-render, in the person's time zone (the browser's, sent with the form). */
export const scheduleInputSchema = z.discriminatedUnion(
  "repeat",
  [
    z.object({ repeat: z.literal("once"), date, time, timeZone }),
    z.object({ repeat: z.literal("daily"), time, timeZone }),
    z.object({ repeat: z.literal("weekdays"), time, timeZone }),
    // The select's value, "0" (Sunday) to "6"; not z.coerce, which reads an empty field as 0, Sunday.
    z.object({
      repeat: z.literal("weekly"),
      weekday: z.enum(["0", "1", "2", "3", "4", "5", "6"], { message: "Choose a day" }).transform(Number),
      time,
      timeZone,
    }),
  ],
  { message: "Choose how often" },
);

export type ScheduleInput = z.infer<typeof scheduleInputSchema>;
export type ScheduleField = "repeat" | "date" | "time" | "weekday" | "timeZone";

/** The croner pattern of a schedule: a cron line, or a local date-time for a one-off run. */
export function schedulePattern(schedule: ScheduleInput): string {
  const [hour, minute] = schedule.time.split(":").map(Number);
  switch (schedule.repeat) {
    case "once":
      return `${schedule.date}T${schedule.time}:00`;
    case "daily":
      return `${minute} ${hour} * * *`;
    case "weekdays":
      return `${minute} ${hour} * * 1-5`;
    case "weekly":
      return `${minute} ${hour} * * ${schedule.weekday}`;
  }
}

/** The next run strictly after `after`, as an instant; null when a one-off time has passed. */
export function nextRunAt(schedule: ScheduleInput, after: Date = new Date()): Date | null {
  return new Cron(schedulePattern(schedule), { timezone: schedule.timeZone, paused: true }).nextRun(after);
}

export function describeSchedule(schedule: ScheduleInput): string {
  const at = `at ${schedule.time} (${schedule.timeZone})`;
  switch (schedule.repeat) {
    case "once":
      return `Once, on ${schedule.date} ${at}`;
    case "daily":
      return `Every day ${at}`;
    case "weekdays":
      return `Every weekday ${at}`;
    case "weekly":
      return `Every ${WEEKDAYS[schedule.weekday]} ${at}`;
  }
}
