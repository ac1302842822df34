import type { Task, TaskList } from "graphile-worker";
import { describeError } from "@/lib/errors";
import { TASK_GROUPS, type TaskGroup, type TaskName } from "./payloads";
import { createHousekeepingTask } from "./housekeeping";
import * as render from "./render";
import type { RenderTaskDependencies } from "./render";
import { createRollUpUsageTask, createRunSchedulesTask } from "./schedules";
import { TASK_TIME_LIMITS_MS, withTimeLimit } from "./time-limit";
import { createUploadTasks } from "./uploads";
import { createCheckSourcesTask, type CheckSourcesTaskDependencies } from "./watched-sources";

export type TaskDependencies = RenderTaskDependencies &
  Omit<CheckSourcesTaskDependencies, "db"> & {
    retentionDays: number;
    largeRenderPixels?: number;
    /** Time limits that differ from TASK_TIME_LIMITS_MS (RENDER_TIME_LIMIT_MS; tests). */
    timeLimitsMs?: Partial<Record<TaskName, number>>;
  };

/** The tasks of one group, by identifier (the same names as jobs/payloads.ts), each stopped at its time limit. */
export function createTaskList(dependencies: TaskDependencies, group: TaskGroup = "standard"): TaskList {
  const handlers: Record<TaskName, Task> = {
    render: render.createRenderTask(dependencies),
    render_large: render.createRenderTask(dependencies),
    ...createUploadTasks(dependencies),
    housekeeping: createHousekeepingTask(dependencies),
    run_schedules: createRunSchedulesTask(dependencies),
    check_sources: createCheckSourcesTask(dependencies),
    roll_up_usage: createRollUpUsageTask(dependencies),
  };
  const limitMs = (name: TaskName) => dependencies.timeLimitsMs?.[name] ?? TASK_TIME_LIMITS_MS[name];
  return Object.fromEntries(TASK_GROUPS[group].map((name) => [name, withTimeLimit(withReadableErrors(handlers[name]), limitMs(name))]));
}

/**
 * A failed job's error in words: graphile-worker records the message as the
 * job's last_error and logs it, so a failed query says the database's reason
 * (a lock timeout, say) rather than drizzle's SQL. The stack stays the
 * original's, with the statement, for the worker's log.
 */
function withReadableErrors(task: Task): Task {
  return async (payload, helpers) => {
    try {
      return await task(payload, helpers);
    } catch (error) {
      const message = describeError(error);
      if (!(error instanceof Error) || message === error.message) throw error;
      throw Object.assign(new Error(message, { cause: error }), { stack: error.stack });
    }
  };
}
