import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WorkerEvents } from "graphile-worker";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { QueueDepth } from "@/db/queries/queue";
import { registerQueueDepthGauges } from "@/lib/queue-depth-gauges";

export type WorkerHealth = { ok: boolean; heartbeat: "fresh" | "stale"; database: "ok" | "unreachable" };

/**
 * A worker's own port (WORKER_METRICS_PORT; off when unset). `/metrics`:
 * Prometheus metrics, jobs by task and outcome, run times, the whole queue's
 * depth (lib/queue-depth-gauges.ts), and the process's own default metrics.
 * `/health`: 200 when its heartbeat is fresh and the database answers, 503
 * otherwise (for a container's healthcheck or an orchestrator). Bind it to a
 * private network in production.
 */
export async function serveWorkerMetrics(
  events: WorkerEvents,
  options: { port: number; workerId: string; health: () => Promise<WorkerHealth>; queueDepth: () => Promise<QueueDepth[]> },
) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker: options.workerId });
  collectDefaultMetrics({ register: registry });
  const jobs = new Counter({
    name: "longrun_worker_jobs_total",
    help: "Jobs run, by task and outcome",
    labelNames: ["task", "outcome"],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "longrun_worker_job_seconds",
    help: "Job run time, by task",
    labelNames: ["task"],
    buckets: [0.05, 0.25, 1, 5, 30, 120, 600, 3600],
    registers: [registry],
  });
  const startedAt = new Map<string, number>();
  events.on("job:start", ({ job }) => startedAt.set(job.id, performance.now()));
  const finish =
    (outcome: string) =>
    ({ job }: { job: { id: string; task_identifier: string } }) => {
      jobs.inc({ task: job.task_identifier, outcome });
      const start = startedAt.get(job.id);
      if (start !== undefined) seconds.observe({ task: job.task_identifier }, (performance.now() - start) / 1000);
      startedAt.delete(job.id);
    };
  events.on("job:success", finish("success"));
  events.on("job:error", finish("error"));
  registerQueueDepthGauges(registry, options.queueDepth);

  const respond = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.url === "/metrics") {
      response.writeHead(200, { "Content-Type": registry.contentType }).end(await registry.metrics());
    } else if (request.url === "/health") {
      const health = await options.health();
      response
        .writeHead(health.ok ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" })
        .end(JSON.stringify(health));
    } else {
      response.writeHead(404).end();
    }
  };
  // A failed scrape is a 500 for the scraper, not an unhandled rejection that ends the worker.
  const server: Server = createServer((request, response) => {
    respond(request, response).catch((error: unknown) => {
      console.error("[worker] metrics request failed:", error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
