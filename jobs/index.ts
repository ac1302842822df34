import type { TaskList } from "graphile-worker";
import * as render from "./render";
import type { RenderTaskDependencies } from "./render";

export type TaskDependencies = RenderTaskDependencies;

/** Every task the worker runs, by identifier (the same names as jobs/payloads.ts). */
export function createTaskList(dependencies: TaskDependencies): TaskList {
  return {
    [render.identifier]: render.createRenderTask(dependencies),
  };
}
