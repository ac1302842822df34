import type { TaskName } from "./payloads";

/**
 * Recurring work, in graphile-worker's crontab format (UTC). Every standard
 * worker carries it; graphile-worker makes sure each tick runs once.
 * - housekeeping: `fill=1h`, a tick missed while no worker ran is made up within an hour.
 * - run_schedules: every minute, starts the people's scheduled renders that are due;
 *   a minute missed needs no making up (due schedules wait in their table).
 * - check_sources: every minute, fetches the watched sources that are due (each
 *   source's own interval decides); likewise, due sources wait in their table.
 * - roll_up_usage: hourly, totals each person's usage per day, so the accounting
 *   outlives the rows it came from; a missed tick is made up by the next (it
 *   rolls every day since the last final one).
 */
export const CRON_ITEMS = [
  { pattern: "17 * * * *", task: "housekeeping", options: "?fill=1h&max=1" },
  { pattern: "* * * * *", task: "run_schedules", options: "?max=1" },
  { pattern: "* * * * *", task: "check_sources", options: "?max=1" },
  { pattern: "7 * * * *", task: "roll_up_usage", options: "?max=1" },
] as const satisfies { pattern: string; task: TaskName; options: string }[];

export const CRONTAB = CRON_ITEMS.map((item) => `${item.pattern} ${item.task} ${item.options}`).join("\n");
