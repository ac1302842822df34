import type { Task, TaskList } from "graphile-worker";
import { TASK_GROUPS, type TaskGroup, type TaskName } from "./payloads";
import { createHousekeepingTask } from "./housekeeping";
import * as render from "./render";
import type { RenderTaskDependencies } from "./render";

export type TaskDependencies = RenderTaskDependencies & { retentionDays: number };

/** The tasks of one group, by identifier (the same names as jobs/payloads.ts). */
export function createTaskList(dependencies: TaskDependencies, group: TaskGroup = "standard"): TaskList {
  const handlers: Record<TaskName, Task> = {
    render: render.createRenderTask(dependencies),
    render_large: render.createRenderTask(dependencies),
    housekeeping: createHousekeepingTask(dependencies),
  };
  return Object.fromEntries(TASK_GROUPS[group].map((name) => [name, handlers[name]]));
}
