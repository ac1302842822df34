import { Gauge, Registry } from "prom-client";
import { db } from "@/db";
import { getQueueMetrics } from "@/db/queries/dashboard";
import { getQueueDepth, QUEUE_DEPTH_MAX_AGE_MS } from "@/db/queries/queue";
import { DEFAULT_STALE_AFTER_MS } from "@/db/queries/workers";
import { taskPayloads } from "@/jobs/payloads";
import { cachedFor } from "@/lib/cached";
import { registerQueueDepthGauges } from "@/lib/queue-depth-gauges";
import { withMetricsToken } from "@/server/auth/guards";

/**
 * Prometheus metrics of the whole service, read from the database at each
 * scrape. A scraper sends `Authorization: Bearer $METRICS_TOKEN`; without the
 * token configured, or with another one, this route does not exist (404).
 * A database outage is a 503 with Retry-After, as on every guarded route.
 */
export const GET = withMetricsToken(async () => {
  const metrics = await getQueueMetrics(db, { staleAfterMs: DEFAULT_STALE_AFTER_MS });
  const registry = new Registry();
  const jobs = new Gauge({
    name: "longrun_jobs",
    help: "Jobs in the queue, by task and state",
    labelNames: ["task", "state"],
    registers: [registry],
  });
  for (const row of metrics.jobs) jobs.set({ task: row.task, state: row.state }, row.count);
  const results = new Gauge({ name: "longrun_results", help: "Renders by status", labelNames: ["status"], registers: [registry] });
  for (const row of metrics.results) results.set({ status: row.status }, row.count);
  const workers = new Gauge({ name: "longrun_workers", help: "Workers by heartbeat", labelNames: ["state"], registers: [registry] });
  workers.set({ state: "alive" }, metrics.workersAlive);
  workers.set({ state: "lost" }, metrics.workersLost);
  registerQueueDepthGauges(registry, readQueueDepth);
  return new Response(await registry.metrics(), { headers: { "Content-Type": registry.contentType, "Cache-Control": "no-store" } });
});

// Scrapes within a few seconds share one reading of the queue's depth.
const readQueueDepth = cachedFor(QUEUE_DEPTH_MAX_AGE_MS, () => getQueueDepth(db, Object.keys(taskPayloads)));
