import os from "node:os";
import { Logger, run, type Runner } from "graphile-worker";
import pg from "pg";
import { createDatabase } from "@/db/client";
import { createTaskList } from "@/jobs";
import { RenderPool } from "@/lib/render";

export type WorkerOptions = {
  databaseUrl: string;
  concurrency: number;
  renderThreads?: number;
  /** Log lines go here (default: stdout). */
  log?: (line: string) => void;
};

export type RunningWorker = { id: string; runner: Runner; stop: () => Promise<void> };

/**
 * A worker: graphile-worker's runner with our tasks, its own database pools
 * and one render thread pool. Used by worker/main.ts and, unchanged, by the
 * integration tests.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? ((line) => console.log(line));
  const id = `${os.hostname()}:${process.pid}`;

  // Our own pool with an error handler: a database restart must not crash the process.
  const pgPool = new pg.Pool({ connectionString: options.databaseUrl, max: options.concurrency + 2 });
  pgPool.on("error", (error) => log(`[worker] database connection error: ${error.message}`));
  pgPool.on("connect", (client) => client.on("error", (error) => log(`[worker] database client error: ${error.message}`)));
  const db = createDatabase(options.databaseUrl, { max: options.concurrency + 1, applicationName: "longrun-worker" });
  const renderPool = new RenderPool({ threads: options.renderThreads });

  const logger = new Logger((scope) => (level, message) => {
    if (level === "debug") return;
    log(`[worker${scope.workerId ? ` ${scope.workerId}` : ""}] ${level}: ${message}`);
  });

  const runner = await run({
    pgPool,
    concurrency: options.concurrency,
    taskList: createTaskList({ db, renderPool, workerId: id }),
    noHandleSignals: true,
    parsedCronItems: [], // no recurring work yet (and no crontab file to look for)
    logger,
    // Without these, a job finishing during a graceful shutdown stays locked (0.17.3).
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await runner.stop();
      await renderPool.close();
      await db.$client.end({ timeout: 5 });
      await pgPool.end();
    })());

  return { id, runner, stop };
}
