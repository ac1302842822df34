import { Gauge, type Registry } from "prom-client";
import type { QueueDepth } from "@/db/queries/queue";

/**
 * The queue's depth per task (db/queries/queue.ts: getQueueDepth), for the web's
 * /api/metrics and each worker's /metrics, read at each scrape through
 * `readQueueDepth`, which should be cached (the three gauges call it in turn).
 * While the database does not answer, they are left out rather than stale.
 */
export function registerQueueDepthGauges(registry: Registry, readQueueDepth: () => Promise<QueueDepth[]>) {
  const gauge = (name: string, help: string, value: (row: QueueDepth) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["task"],
      registers: [registry],
      async collect() {
        const rows = await readQueueDepth().catch(() => []);
        this.reset();
        for (const row of rows) this.set({ task: row.task }, value(row));
      },
    });
  gauge("longrun_queue_ready_jobs", "Jobs waiting for a worker, by task", (row) => row.readyJobs);
  gauge("longrun_queue_running_jobs", "Jobs a worker holds, by task", (row) => row.runningJobs);
  gauge(
    "longrun_queue_oldest_ready_job_age_seconds",
    "How long the oldest job waiting for a worker has been due, by task",
    (row) => row.oldestReadyJobAgeSeconds,
  );
}
