import { describe, expect, it } from "vitest";
import { describeSchedule, nextRunAt, scheduleInputSchema } from "./schedules";

describe("nextRunAt", () => {
  it("runs daily at a wall-clock time in the person's zone, across a daylight-saving change", () => {
    const daily = { repeat: "daily", time: "07:30", timeZone: "Europe/Paris" } as const;
    // Paris is UTC+2 until 25 October 2026, UTC+1 after.
    expect(nextRunAt(daily, new Date("2026-10-24T12:00:00Z"))?.toISOString()).toBe("2026-10-25T06:30:00.000Z");
    expect(nextRunAt(daily, new Date("2026-10-25T12:00:00Z"))?.toISOString()).toBe("2026-10-26T06:30:00.000Z");
  });

  it("skips the weekend for weekdays and finds the named day for weekly", () => {
    const friday = new Date("2026-11-27T20:00:00Z");
    expect(nextRunAt({ repeat: "weekdays", time: "09:00", timeZone: "UTC" }, friday)?.toISOString()).toBe("2026-11-30T09:00:00.000Z");
    expect(nextRunAt({ repeat: "weekly", weekday: 3, time: "18:15", timeZone: "America/New_York" }, friday)?.toISOString()).toBe(
      "2026-12-02T23:15:00.000Z",
    );
  });

  it("runs a one-off once, and never when its time has passed", () => {
    const once = { repeat: "once", date: "2026-12-24", time: "18:00", timeZone: "Asia/Tokyo" } as const;
    expect(nextRunAt(once, new Date("2026-11-23T00:00:00Z"))?.toISOString()).toBe("2026-12-24T09:00:00.000Z");
    expect(nextRunAt(once, new Date("2026-12-25T00:00:00Z"))).toBeNull();
  });
});

describe("scheduleInputSchema", () => {
  it("accepts the form's fields and describes them", () => {
    const parsed = scheduleInputSchema.parse({ repeat: "weekly", weekday: "1", time: "07:30", timeZone: "Europe/Paris" });
    expect(describeSchedule(parsed)).toBe("Every Monday at 07:30 (Europe/Paris)");
  });

  it("refuses bad times, dates, days and zones with messages", () => {
    const issues = (value: unknown) =>
      scheduleInputSchema.safeParse(value).error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    expect(issues({ repeat: "daily", time: "24:00", timeZone: "UTC" })).toEqual(["time: Enter a time as HH:MM"]);
    expect(issues({ repeat: "daily", time: "07:30", timeZone: "Mars/Olympus" })).toEqual(["timeZone: Unknown time zone"]);
    expect(issues({ repeat: "once", date: "2026-02-30", time: "07:30", timeZone: "UTC" })).toEqual(["date: Enter a date"]);
    expect(issues({ repeat: "weekly", weekday: "7", time: "07:30", timeZone: "UTC" })?.[0]).toMatch(/^weekday: /);
    expect(issues({ repeat: "hourly", time: "07:30", timeZone: "UTC" })).toEqual(["repeat: Choose how often"]);
  });
});
