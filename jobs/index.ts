import type { Task, TaskList } from "graphile-worker";
import { TASK_GROUPS, type TaskGroup, type TaskName } from "./payloads";
import { createHousekeepingTask } from "./housekeeping";
import * as render from "./render";
import type { RenderTaskDependencies } from "./render";
import { createRollUpUsageTask, createRunSchedulesTask } from "./schedules";
import { createUploadTasks } from "./uploads";
import { createCheckSourcesTask, type CheckSourcesTaskDependencies } from "./watched-sources";

export type TaskDependencies = RenderTaskDependencies &
  Omit<CheckSourcesTaskDependencies, "db"> & { retentionDays: number; largeRenderPixels?: number };

/** The tasks of one group, by identifier (the same names as jobs/payloads.ts). */
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
  return Object.fromEntries(TASK_GROUPS[group].map((name) => [name, handlers[name]]));
}
