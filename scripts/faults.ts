import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { and, eq, inArray, sql } from "drizzle-orm";
import sharp from "sharp";
import { createDatabase } from "@/db/client";
import { createApiToken } from "@/db/queries/api-tokens";
import { saveConfiguration } from "@/db/queries/configurations";
import { acceptUpload, storeThenAccept, storeUpload } from "@/db/queries/uploads";
import { setUserTier } from "@/db/queries/users";
import { addWatchedSource } from "@/db/queries/watched-sources";
import { results, UNFINISHED_STATUSES, uploadSteps, users, watchedSources, workerHeartbeats } from "@/db/schema";
import { deleteStoredFile } from "@/db/storage";
import { enqueue } from "@/jobs/enqueue";
import { TIER_LIMITS } from "@/lib/tiers";
import { configurationInputSchema, DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { buildWebIfNeeded, standaloneWebCommand } from "@/scripts/lib/build";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/scripts/lib/embedded-postgres";
import { freePort, startService, stopService, waitForHttp, type Service } from "@/scripts/lib/processes";
import { bundledWorker, isSmoke, SMOKE_HEARTBEATS } from "@/scripts/lib/smoke";
import { createMigratedDatabase } from "@/scripts/lib/throwaway-database";

/**
 * `npm run test:faults`: the faults of issue #6 against real processes: an
 * embedded Postgres, the built web (the standalone server) and bundled worker processes.
 *   1. SIGKILL workers during a 1,000-render batch (replacements started at once)
 *   2. stop and start Postgres mid-batch
 *   3. 10,000 renders from 20 people who keep their queues full
 *   4. poison uploads: bytes that claim to be a PNG, and an upload whose bytes are gone
 *   5. a watched source whose server accepts the connection and never answers
 * A prober (its own thread, so this script's work does not delay it) asks the
 * web for /api/health and a render's status every 250 ms throughout. Each
 * scenario checks its invariants; the end checks every job: succeeded, failed
 * with a reason or cancelled, none left behind, no picture written twice.
 * Times are reported, never asserted. Exits 1 on any violation.
 * Sizes: FAULTS_BATCH (1000), FAULTS_RESTART_BATCH (500), FAULTS_FILL (10000);
 * --smoke: 20, 200 and 100, and workers lost after 3 s instead of 15.
 */
const BATCH = Number(process.env.FAULTS_BATCH ?? (isSmoke ? 20 : 1000));
const RESTART_BATCH = Number(process.env.FAULTS_RESTART_BATCH ?? (isSmoke ? 200 : 500));
const FILL = Number(process.env.FAULTS_FILL ?? (isSmoke ? 100 : 10_000));
const FILL_PEOPLE = 20;
const WORKERS = 2;
const WORKER_CONCURRENCY = 4;
const PROBE_INTERVAL_MS = 250;
/** A probe that takes this long counts as hung. */
const PROBE_TIMEOUT_MS = 10_000;
/** Nothing finished for this long while jobs are unfinished: they are lost (not a speed limit: it only ends a stuck run). */
const STALL_MS = 180_000;
/** Pro: the tier whose limit (unfinished renders at once) lets a batch be saved in one go by few people. */
const PER_PERSON = TIER_LIMITS.pro.maxUnfinishedRenders;

// ---- Processes and cleanup ----

const root = mkdtempSync(path.join(tmpdir(), "longrun-faults-"));
chmodSync(root, 0o755); // as root, Postgres runs as the postgres user and must reach its data
const dataDir = path.join(root, "postgres");
const logDir = path.resolve(".data/faults");
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });

let postgresServer: EmbeddedPostgres | undefined;
const services = new Set<Service>();
const logs: WriteStream[] = [];
const cleanUps: (() => unknown)[] = [];
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    for (const cleanUpStep of cleanUps.reverse()) await Promise.resolve(cleanUpStep()).catch(() => {});
    await Promise.all([...services].map((service) => stopService(service, 5_000)));
    await postgresServer?.stop();
    for (const log of logs) log.end();
    rmSync(root, { recursive: true, force: true });
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping every process this run started…`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** A child process whose output goes to .data/faults/<name>.log (10,000 jobs are too many lines for a terminal). */
function startLogged(name: string, args: string[], env: NodeJS.ProcessEnv) {
  const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: "a" });
  logs.push(log);
  const service = startService(name, process.execPath, args, env, (line) => log.write(line));
  services.add(service);
  void service.exited.then(() => log.write(`[${name}] exited (code ${service.child.exitCode}, signal ${service.child.signalCode})\n`));
  return service;
}

/** The built web as production and `npm start` run it: the standalone server. */
async function startWeb(databaseUrl: string) {
  buildWebIfNeeded();
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: randomBytes(32).toString("base64url"),
    NEXT_TELEMETRY_DISABLED: "1",
  };
  const web = standaloneWebCommand({ port, env, hostname: "127.0.0.1" });
  const service = startLogged("web", web.args, web.env);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/api/health`);
  return { service, base };
}

// ---- The checks ----

const violations: string[] = [];
function check(isKept: boolean, message: string) {
  if (!isKept) {
    violations.push(message);
    console.error(`  ✗ ${message}`);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** Polls until `isDone` or `timeoutMs` pass; returns the last value either way (the caller checks it). */
async function waitUntil<T>(read: () => Promise<T>, isDone: (value: T) => boolean, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (isDone(value) || performance.now() > deadline) return value;
    await sleep(100);
  }
}

async function mapLimited<T, R>(items: T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        out[index] = await run(items[index], index);
      }
    }),
  );
  return out;
}

try {
  // ---- Setup ----

  const runStartedAt = performance.now();
  const port = await freePort();
  postgresServer = await startEmbeddedPostgres({ dataDir, port });
  const url = await createMigratedDatabase(postgresServer.url(), "faults");
  const db = createDatabase(url, { max: 6, applicationName: "faults" });
  cleanUps.push(() => db.$client.end({ timeout: 1 }));

  console.log("Building the worker bundle and (if a source changed) the web…");
  const workerEntry = await bundledWorker();
  const web = await startWeb(url);

  let workerCount = 0;
  const workers: Service[] = [];
  const workerEnv = {
    ...process.env,
    DATABASE_URL: url,
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    WATCH_ALLOW_PRIVATE_HOSTS: "true", // scenario 5's server is on loopback
    ...(isSmoke && {
      WORKER_HEARTBEAT_MS: String(SMOKE_HEARTBEATS.heartbeatMs),
      WORKER_STALE_AFTER_MS: String(SMOKE_HEARTBEATS.staleAfterMs),
    }),
  };
  function startWorkerProcess() {
    const service = startLogged(`worker-${++workerCount}`, [workerEntry], workerEnv);
    workers.push(service);
    return service;
  }
  async function heartbeatOf(pid: number) {
    for (;;) {
      const [row] = await db.select().from(workerHeartbeats).where(eq(workerHeartbeats.pid, pid));
      if (row) return row;
      await sleep(50);
    }
  }
  for (let i = 0; i < WORKERS; i++) startWorkerProcess();
  await Promise.all(workers.map((worker) => heartbeatOf(worker.child.pid!)));

  let personCount = 0;
  /** People made pro through the product's own tier setting (as an admin does on /admin/users). */
  async function createProPeople(label: string, count: number) {
    const created = await db
      .insert(users)
      .values(Array.from({ length: count }, () => ({ email: `${label}-${++personCount}@faults.example`, passwordHash: "x" })))
      .returning({ id: users.id });
    for (const { id } of created) await setUserTier(db, { userId: id, tier: "pro" });
    return created.map(({ id }) => id);
  }

  /** A tiny render (32x32, depth 64) with its own constant, so every picture differs. */
  let renderCount = 0;
  const tinyRender = (label: string) => {
    const n = ++renderCount;
    return configurationInputSchema.parse({
      ...DEFAULT_CONFIGURATION,
      name: `${label} ${n}`,
      width: 32,
      height: 32,
      depth: 64,
      re: -0.8 + n * 1e-5,
    });
  };

  /** The app's save path (configuration + result + job in one transaction), one save at a time per person. */
  async function saveRender(ownerId: string, label: string) {
    const saved = await saveConfiguration(db, { ownerId, input: tinyRender(label) });
    if (!saved.ok) throw new Error(`save refused (${saved.code}${"message" in saved ? `: ${saved.message}` : ""})`);
    return saved.resultId;
  }
  async function saveBatch(owners: string[], perPerson: number, label: string) {
    const ids = await mapLimited(owners, 6, async (ownerId) => {
      const mine: string[] = [];
      for (let i = 0; i < perPerson; i++) mine.push(await saveRender(ownerId, label));
      return mine;
    });
    return ids.flat();
  }

  type Counts = Record<string, number> & { total: number; unfinished: number; succeeded: number };
  async function countResults(owners: string[]): Promise<Counts> {
    const rows = await db
      .select({ status: results.status, count: sql<number>`count(*)::int` })
      .from(results)
      .where(inArray(results.ownerId, owners))
      .groupBy(results.status);
    const counts = { total: 0, unfinished: 0, succeeded: 0 } as Counts;
    for (const { status, count } of rows) {
      counts[status] = count;
      counts.total += count;
      if ((UNFINISHED_STATUSES as readonly string[]).includes(status)) counts.unfinished += count;
    }
    return counts;
  }

  /** Waits until the owners' renders have all finished; fails naming the stuck ones if nothing finishes for STALL_MS. */
  async function waitUntilFinished(owners: string[], until: (counts: Counts) => boolean = (counts) => counts.unfinished === 0) {
    let last = -1;
    let lastChangeAt = performance.now();
    for (;;) {
      const counts = await countResults(owners);
      if (until(counts)) return counts;
      const finished = counts.total - counts.unfinished;
      if (finished !== last) {
        last = finished;
        lastChangeAt = performance.now();
      } else if (performance.now() - lastChangeAt > STALL_MS) {
        const stuck = await db
          .select({
            id: results.id,
            status: results.status,
            attempts: results.attempts,
            workerId: results.workerId,
            message: results.message,
          })
          .from(results)
          .where(and(inArray(results.ownerId, owners), inArray(results.status, UNFINISHED_STATUSES)))
          .limit(10);
        throw new Error(
          `nothing finished for ${seconds(STALL_MS)}; ${counts.unfinished} renders unfinished, e.g. ${JSON.stringify(stuck)}`,
        );
      }
      await sleep(200);
    }
  }

  // ---- The prober: its own thread and event loop ----

  type Probe = { target: "health" | "status"; at: number; ms: number; status: number | "timeout" | "error" };
  const probes: Probe[] = [];
  const [proberOwner] = await createProPeople("prober", 1);
  const proberToken = await createApiToken(db, { ownerId: proberOwner, name: "faults prober" });
  if (!proberToken.ok) throw new Error("could not create the prober's API token");
  const proberRender = await saveRender(proberOwner, "probed");
  const PROBER_SOURCE = `
  const { parentPort, workerData } = require("node:worker_threads");
  const { base, statusPath, token, intervalMs, timeoutMs } = workerData;
  async function probe(target, url, headers) {
    const at = Date.now();
    const started = performance.now();
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      parentPort.postMessage({ target, at, ms: performance.now() - started, status: response.status });
    } catch (error) {
      parentPort.postMessage({ target, at, ms: performance.now() - started, status: error.name === "TimeoutError" ? "timeout" : "error" });
    }
  }
  setInterval(() => {
    probe("health", base + "/api/health", {});
    probe("status", base + statusPath, { Authorization: "Bearer " + token });
  }, intervalMs);
  `;
  const prober = new Worker(PROBER_SOURCE, {
    eval: true,
    workerData: {
      base: web.base,
      statusPath: `/api/v1/renders/${proberRender}`,
      token: proberToken.token,
      intervalMs: PROBE_INTERVAL_MS,
      timeoutMs: PROBE_TIMEOUT_MS,
    },
  });
  prober.on("message", (probe: Probe) => probes.push(probe));
  cleanUps.push(() => prober.terminate());

  /** When Postgres was deliberately down (stop → the web's health answers 200 again): the only time a probe may fail, and then with a 503. */
  const outages: { from: number; to: number }[] = [];
  const isDuringOutage = (probe: Probe) => outages.some(({ from, to }) => probe.at <= to && probe.at + probe.ms >= from);

  type Run = (figures: string[]) => Promise<{ jobs: string; outcome: string }>;
  type ScenarioReport = { name: string; startedAt: number; endedAt: number; jobs: string; outcome: string; figures: string[] };
  const reports: ScenarioReport[] = [];
  async function scenario(name: string, ...args: [run: Run] | [window: { startedAt: number }, run: Run]) {
    const [window, run] = args.length === 2 ? args : [{ startedAt: Date.now() }, args[0]];
    console.log(`\n▶ ${name}`);
    const figures: string[] = [];
    const { startedAt } = window;
    const { jobs, outcome } = await run(figures);
    const report = { name, startedAt, endedAt: Date.now(), jobs, outcome, figures };
    reports.push(report);
    for (const figure of figures) console.log(`  ${figure}`);
    const web = summariseProbes(report);
    console.log(`  web: ${web.text}`);
  }

  function summariseProbes({ startedAt, endedAt }: { startedAt: number; endedAt: number }) {
    const inWindow = probes.filter((probe) => probe.at >= startedAt && probe.at <= endedAt);
    const answered = inWindow.filter((probe) => typeof probe.status === "number");
    const ms = answered.map((probe) => probe.ms);
    const failures = inWindow.filter((probe) => probe.status !== 200);
    const text = `${inWindow.length} probes, p50 ${percentile(ms, 50).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms, ${failures.length} not 200${
      failures.length ? ` (${[...new Set(failures.map((probe) => `${probe.target} ${probe.status}`))].join(", ")})` : ""
    }`;
    return { text, p99: percentile(ms, 99), max: Math.max(...ms), failures: failures.length };
  }

  // ---- 1. SIGKILL workers during a batch ----

  await scenario(`1. kill -9 workers during a ${BATCH}-render batch`, async (figures) => {
    const owners = await createProPeople("batch", Math.ceil(BATCH / PER_PERSON));
    const savedAt = performance.now();
    const ids = await saveBatch(owners, PER_PERSON, "batch");
    const batchStartedAt = performance.now();
    figures.push(
      `saved ${ids.length} renders (${owners.length} pro people x ${PER_PERSON}, the app's save transaction each) in ${seconds(batchStartedAt - savedAt)}`,
    );

    for (const fraction of [0.25, 0.6]) {
      await waitUntilFinished(owners, (counts) => counts.succeeded >= fraction * ids.length);
      // The oldest live worker: it has been taking jobs all along.
      const victim = workers.find((worker) => worker.child.exitCode === null && worker.child.signalCode === null)!;
      const beat = await heartbeatOf(victim.child.pid!);
      victim.child.kill("SIGKILL");
      const killedAt = performance.now();
      startWorkerProcess(); // the replacement an orchestrator would start
      // Renders it held at the moment it died (a tiny render may have finished in between).
      const stranded = await db
        .select({ id: results.id })
        .from(results)
        .where(and(eq(results.workerId, beat.id), eq(results.status, "running")));
      const strandedIds = stranded.map(({ id }) => id);
      // Recovered: a live worker swept the dead one's heartbeat and every stranded render runs elsewhere or is done.
      for (;;) {
        const [gone] = await db
          .select({ count: sql<number>`count(*)::int` })
          .from(workerHeartbeats)
          .where(eq(workerHeartbeats.id, beat.id));
        const stillHeld = strandedIds.length
          ? await db
              .select({ id: results.id })
              .from(results)
              .where(and(inArray(results.id, strandedIds), eq(results.workerId, beat.id)))
          : [];
        if (gone.count === 0 && stillHeld.length === 0) break;
        if (performance.now() - killedAt > STALL_MS) throw new Error(`worker ${beat.id} was never recovered`);
        await sleep(100);
      }
      figures.push(
        `SIGKILL at ${Math.round(fraction * 100)}% done (worker ${beat.id}, ${strandedIds.length} renders running on it): its renders running again elsewhere after ${seconds(performance.now() - killedAt)}`,
      );
    }

    const counts = await waitUntilFinished(owners);
    const ranFor = performance.now() - batchStartedAt;
    const [rerun] = await db
      .select({ count: sql<number>`count(*)::int` })
      .from(results)
      .where(and(inArray(results.ownerId, owners), sql`${results.attempts} > 1`));
    figures.push(
      `all ${counts.total} finished in ${seconds(ranFor)} (${(counts.total / (ranFor / 1000)).toFixed(0)} renders/s); ${rerun.count} ran more than once`,
    );
    check(
      counts.succeeded === ids.length,
      `scenario 1: ${counts.succeeded} of ${ids.length} renders succeeded (${JSON.stringify(counts)})`,
    );
    return { jobs: `${ids.length} renders`, outcome: `${counts.succeeded} succeeded` };
  });

  // ---- 2. Postgres restarted mid-batch ----

  await scenario(`2. Postgres stopped and started during a ${RESTART_BATCH}-render batch`, async (figures) => {
    const owners = await createProPeople("restart", Math.ceil(RESTART_BATCH / PER_PERSON));
    const ids = await saveBatch(owners, PER_PERSON, "restart");
    await waitUntilFinished(owners, (counts) => counts.succeeded >= 0.3 * ids.length);

    const outage = { from: Date.now(), to: Number.POSITIVE_INFINITY };
    outages.push(outage);
    const stopAt = performance.now();
    await postgresServer!.stop(); // fast shutdown: every connection is cut, running transactions roll back
    await sleep(2_000);
    postgresServer = await startEmbeddedPostgres({ dataDir, port });
    const startedAt = performance.now();
    for (;;) {
      const health = await fetch(`${web.base}/api/health`).catch(() => null);
      if (health?.status === 200) break;
      await sleep(50);
    }
    outage.to = Date.now();
    const webBackAfter = performance.now() - startedAt;
    const [{ count: doneBefore }] = await db
      .select({ count: sql<number>`count(*)::int` })
      .from(results)
      .where(and(inArray(results.ownerId, owners), eq(results.status, "succeeded")));
    // (A fast machine may have finished the batch before Postgres stopped: then there is nothing to wait for.)
    const afterRestart = await waitUntilFinished(owners, (counts) => counts.succeeded > doneBefore || counts.unfinished === 0);
    const workersBack =
      afterRestart.succeeded > doneBefore
        ? `the workers finishing renders again after ${seconds(performance.now() - startedAt)}`
        : "no renders were left for the workers";

    const counts = await waitUntilFinished(owners);
    figures.push(
      `Postgres down ${seconds(startedAt - stopAt)} (stop, 2 s, start); the web's health 200 again ${seconds(webBackAfter)} after it started, ${workersBack}`,
    );
    const exited = [web.service, ...workers.slice(-WORKERS)].filter(
      (service) => service.child.exitCode !== null || service.child.signalCode !== null,
    );
    figures.push(
      `all ${counts.total} finished ${seconds(performance.now() - startedAt)} after the restart; ${exited.length === 0 ? "same web and worker processes throughout" : `${exited.map((service) => service.name).join(", ")} exited`}`,
    );
    check(
      counts.succeeded === ids.length,
      `scenario 2: ${counts.succeeded} of ${ids.length} renders succeeded (${JSON.stringify(counts)})`,
    );
    for (const service of [web.service, ...workers.slice(-WORKERS)]) {
      const hasExited = service.child.exitCode !== null || service.child.signalCode !== null;
      check(
        !hasExited,
        `scenario 2: ${service.name} exited during the restart (exit code ${service.child.exitCode}; its log: .data/faults/${service.name}.log)`,
      );
      // As an orchestrator would: the next scenarios run with full capacity.
      if (hasExited && service !== web.service) startWorkerProcess();
    }
    return { jobs: `${ids.length} renders`, outcome: `${counts.succeeded} succeeded` };
  });

  // ---- 5 (started now, checked after 4). A watched source whose server never answers ----

  const hungSockets = new Set<Socket>();
  let hungRequestAt: number | undefined;
  const hangServer: Server = createServer(() => {
    hungRequestAt ??= Date.now(); // accepted and read; no answer, ever
  });
  hangServer.on("connection", (socket) => {
    hungSockets.add(socket);
    socket.on("close", () => hungSockets.delete(socket));
  });
  await new Promise<void>((resolve) => hangServer.listen(0, "127.0.0.1", resolve));
  cleanUps.push(() => {
    for (const socket of hungSockets) socket.destroy();
    hangServer.close();
  });
  const hangPort = (hangServer.address() as { port: number }).port;
  const [watcher] = await createProPeople("watcher", 1);
  const watched = await addWatchedSource(db, {
    ownerId: watcher,
    url: `http://127.0.0.1:${hangPort}/never-answers.csv`,
    intervalMinutes: 60,
  });
  if (!watched.ok) throw new Error(`could not add the watched source (${watched.code})`);
  const hangStartedAt = Date.now();
  await enqueue(db, "check_sources", {}); // what the crontab adds every minute; now rather than at the next minute

  // ---- 3. 10,000 renders from 20 people ----

  await scenario(`3. ${FILL} renders from ${FILL_PEOPLE} people`, async (figures) => {
    const owners = await createProPeople("fill", FILL_PEOPLE);
    const perPerson = Math.ceil(FILL / FILL_PEOPLE);
    let refused = 0;
    const startedAt = performance.now();
    // Each person keeps their tier's limit of renders queued, adding more as theirs finish,
    // as someone scripting the Jobs API would; the app offers no bulk save.
    await Promise.all(
      owners.map(async (ownerId) => {
        let submitted = 0;
        while (submitted < perPerson) {
          const [{ count }] = await db
            .select({ count: sql<number>`count(*)::int` })
            .from(results)
            .where(and(eq(results.ownerId, ownerId), inArray(results.status, UNFINISHED_STATUSES)));
          const free = Math.min(PER_PERSON - count, perPerson - submitted);
          for (let i = 0; i < free; i++) {
            const saved = await saveConfiguration(db, { ownerId, input: tinyRender("fill") });
            if (saved.ok) submitted += 1;
            else refused += 1;
          }
          await sleep(250);
        }
      }),
    );
    const submittedAt = performance.now();
    const counts = await waitUntilFinished(owners);
    const ranFor = performance.now() - startedAt;

    const perOwner = await db
      .select({
        ownerId: results.ownerId,
        done: sql<number>`count(*)::int`,
        lastMs: sql<number>`extract(epoch from max(${results.finishedAt}) - min(${results.queuedAt})) * 1000`,
        waitP50Ms: sql<number>`percentile_cont(0.5) within group (order by extract(epoch from ${results.startedAt} - ${results.queuedAt}) * 1000)`,
      })
      .from(results)
      .where(inArray(results.ownerId, owners))
      .groupBy(results.ownerId);
    const firstQueued = await db
      .select({ at: sql<string>`min(${results.queuedAt})` })
      .from(results)
      .where(inArray(results.ownerId, owners));
    // Everyone's work done by the same moment is fairness; the spread of the people's last finish times measures it.
    const lastFinishes = await db
      .select({
        ownerId: results.ownerId,
        sinceStartMs: sql<number>`extract(epoch from max(${results.finishedAt}) - ${firstQueued[0].at}::timestamptz) * 1000`,
      })
      .from(results)
      .where(inArray(results.ownerId, owners))
      .groupBy(results.ownerId);
    // Shares while everyone was still busy: renders finished per person by the time half of all had finished.
    const [half] = await db
      .select({ at: sql<string>`percentile_disc(0.5) within group (order by ${results.finishedAt})` })
      .from(results)
      .where(inArray(results.ownerId, owners));
    const shares = await db
      .select({ done: sql<number>`(count(*) filter (where ${results.finishedAt} <= ${half.at}::timestamptz))::int` })
      .from(results)
      .where(inArray(results.ownerId, owners))
      .groupBy(results.ownerId);
    const doneByHalf = shares.map((row) => row.done);
    const finishes = lastFinishes.map((row) => Number(row.sinceStartMs));
    const waits = perOwner.map((row) => Number(row.waitP50Ms));
    figures.push(
      `${counts.total} renders in ${seconds(ranFor)}: ${(counts.total / (ranFor / 1000)).toFixed(0)} renders/s; the last save ${seconds(submittedAt - startedAt)} after the first; ${refused} saves refused by the tier limit`,
    );
    figures.push(
      `fairness: by the time half of all renders had finished, each person had ${Math.min(...doneByHalf)}–${Math.max(...doneByHalf)} done (an equal share: ${Math.round(counts.total / 2 / owners.length)}); each person's last render finished between ${seconds(Math.min(...finishes))} and ${seconds(Math.max(...finishes))} after the first save (spread ${seconds(Math.max(...finishes) - Math.min(...finishes))}); median wait per person ${Math.min(...waits).toFixed(0)}–${Math.max(...waits).toFixed(0)} ms`,
    );
    check(
      counts.succeeded === owners.length * perPerson,
      `scenario 3: ${counts.succeeded} of ${owners.length * perPerson} renders succeeded (${JSON.stringify(counts)})`,
    );
    check(refused === 0, `scenario 3: ${refused} saves refused although each person stayed within the limit`);
    return { jobs: `${counts.total} renders, ${FILL_PEOPLE} people`, outcome: `${counts.succeeded} succeeded` };
  });

  // ---- 4. Poison: uploads that fail every time ----

  await scenario("4. poison uploads among renders", async (figures) => {
    const owners = await createProPeople("poison-renders", 10);
    const [poisoner] = await createProPeople("poisoner", 1);
    // A real PNG cut short: its header says image/png (so a thumbnail step is queued), and decoding it always throws.
    const corruptPng = async () => {
      const png = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toBuffer();
      return png.subarray(0, Math.floor(png.length * 0.6));
    };
    async function* bytes(data: Buffer) {
      yield data;
    }
    const startedAt = performance.now();
    const renderIds = saveBatch(owners, PER_PERSON, "among poison");
    const corrupt = await mapLimited(Array.from({ length: 10 }), 4, async (_, i) =>
      storeUpload(
        db,
        bytes(await corruptPng()),
        { ownerId: poisoner, name: `corrupt-${i}.png`, declaredType: "image/png" },
        { maxBytes: 1 << 20 },
      ),
    );
    // An upload whose stored bytes are gone by the time it is processed (as if the store lost them): reading it fails every attempt.
    const vanished = await mapLimited(Array.from({ length: 5 }), 4, (_, i) =>
      storeThenAccept(db, bytes(randomBytes(4096)), { maxBytes: 1 << 20, ownerId: poisoner }, async (stored) => ({
        value: await db.transaction(async (tx) => {
          const upload = await acceptUpload(tx, {
            ownerId: poisoner,
            name: `vanished-${i}.bin`,
            size: stored.size,
            storage: "local",
            storageKey: stored.key,
            declaredType: null,
          });
          await deleteStoredFile(tx, stored.key);
          return upload;
        }),
        keepBytes: true, // already deleted, with the upload's acceptance
      })),
    );
    await renderIds;
    const counts = await waitUntilFinished(owners);
    const rendersDoneAfter = performance.now() - startedAt;

    const stepsOf = (uploads: { id: string }[]) =>
      db
        .select({
          uploadId: uploadSteps.uploadId,
          step: uploadSteps.step,
          status: uploadSteps.status,
          attempts: uploadSteps.attempts,
          message: uploadSteps.message,
        })
        .from(uploadSteps)
        .where(
          inArray(
            uploadSteps.uploadId,
            uploads.map(({ id }) => id),
          ),
        );
    const uploadIds = [...corrupt, ...vanished];
    let steps: Awaited<ReturnType<typeof stepsOf>>;
    const poisonStartedAt = performance.now();
    for (;;) {
      steps = await stepsOf(uploadIds);
      const isSettled = steps.every((step) => step.status === "succeeded" || step.status === "failed");
      const corruptThumbnails = steps.filter((step) => step.step === "thumbnail" && corrupt.some(({ id }) => id === step.uploadId));
      if (isSettled && corruptThumbnails.length === corrupt.length) break;
      if (performance.now() - poisonStartedAt > STALL_MS)
        throw new Error(
          `poison uploads never settled: ${JSON.stringify(steps.filter((step) => step.status !== "succeeded" && step.status !== "failed"))}; ${corruptThumbnails.length} of ${corrupt.length} thumbnail steps exist`,
        );
      await sleep(250);
    }
    const poisonDoneAfter = performance.now() - startedAt;
    const corruptThumbs = steps.filter((step) => step.step === "thumbnail" && corrupt.some(({ id }) => id === step.uploadId));
    const vanishedChecksums = steps.filter((step) => step.step === "checksum" && vanished.some(({ id }) => id === step.uploadId));
    for (const step of corruptThumbs) {
      check(
        step.status === "failed" && Boolean(step.message),
        `scenario 4: corrupt PNG ${step.uploadId}'s thumbnail is ${step.status} (${step.message})`,
      );
    }
    for (const step of vanishedChecksums) {
      check(
        step.status === "failed" && Boolean(step.message),
        `scenario 4: vanished upload ${step.uploadId}'s checksum is ${step.status} (${step.message})`,
      );
    }
    check(
      counts.succeeded === owners.length * PER_PERSON,
      `scenario 4: ${counts.succeeded} of ${owners.length * PER_PERSON} renders succeeded beside the poison`,
    );
    // A step's row settles just before its job is completed (deleted), so the queue gets a moment to empty.
    const uploadJobsLeft = async () =>
      (
        await db.execute<{ count: number }>(
          sql`select count(*)::int as count from graphile_worker.jobs where task_identifier like 'upload_%'`,
        )
      )[0].count;
    const leftover = await waitUntil(uploadJobsLeft, (count) => count === 0, 10_000);
    check(leftover === 0, `scenario 4: ${leftover} upload jobs still in the queue 10 s after every step settled`);
    figures.push(
      `${corrupt.length} corrupt PNGs: thumbnail failed after ${[...new Set(corruptThumbs.map((s) => s.attempts))].join("/")} attempt(s) — "${corruptThumbs[0]?.message}"`,
    );
    figures.push(
      `${vanished.length} uploads with their bytes gone: checksum failed after ${[...new Set(vanishedChecksums.map((s) => s.attempts))].join("/")} attempts — "${vanishedChecksums[0]?.message}"`,
    );
    figures.push(
      `the ${counts.total} renders beside them all succeeded after ${seconds(rendersDoneAfter)}; the poison settled after ${seconds(poisonDoneAfter)}`,
    );
    return {
      jobs: `${uploadIds.length} poison uploads + ${counts.total} renders`,
      outcome: `${corruptThumbs.filter((s) => s.status === "failed").length + vanishedChecksums.filter((s) => s.status === "failed").length} failed with a reason, ${counts.succeeded} renders succeeded`,
    };
  });

  await scenario(
    "5. a watched source whose server accepts the connection and never answers",
    { startedAt: hangStartedAt },
    async (figures) => {
      const source = await (async () => {
        for (;;) {
          const [row] = await db.select().from(watchedSources).where(eq(watchedSources.id, watched.source.id));
          if (row.lastCheckedAt) return row;
          if (Date.now() - (hungRequestAt ?? hangStartedAt) > STALL_MS)
            throw new Error(`the check of the hung source never ${hungRequestAt ? "ended" : "started"}`);
          await sleep(500);
        }
      })();
      const heldFor = hungRequestAt ? source.lastCheckedAt!.getTime() - hungRequestAt : Number.NaN;
      figures.push(
        `the check held one of ${WORKERS * WORKER_CONCURRENCY} job slots for ${seconds(heldFor)}, then recorded "${source.lastStatus}"; the other scenarios ran meanwhile`,
      );
      check(Boolean(hungRequestAt), "scenario 5: the hung server was never asked");
      check(
        /^Failed: no complete answer within/.test(source.lastStatus ?? ""),
        `scenario 5: the source's status is "${source.lastStatus}", not a timeout`,
      );
      // The source's row is written just before its job completes, and the crontab adds a check every minute: give them a moment.
      const lockedChecks = async () =>
        (
          await db.execute<{ count: number }>(
            sql`select count(*)::int as count from graphile_worker.jobs where task_identifier = 'check_sources' and locked_at is not null`,
          )
        )[0].count;
      const locked = await waitUntil(lockedChecks, (count) => count === 0, 10_000);
      check(locked === 0, "scenario 5: a check_sources job is still locked 10 s after the check ended");
      return { jobs: "1 check_sources", outcome: source.lastStatus ?? "?" };
    },
  );

  // ---- Every job accounted for ----

  console.log("\n▶ every job accounted for");
  const byStatus = await db.execute<{ status: string; count: number; without_reason: number; without_image: number }>(sql`
    select status::text, count(*)::int as count,
      count(*) filter (where status = 'failed' and error is null)::int as without_reason,
      count(*) filter (where status = 'succeeded' and (image_sha256 is null or not exists (select 1 from blobs b where b.sha256 = results.image_sha256)))::int as without_image
    from results group by status order by status`);
  for (const row of byStatus) {
    console.log(`  results ${row.status}: ${row.count}`);
    check(["succeeded", "failed", "cancelled"].includes(row.status), `${row.count} results ended ${row.status}`);
    check(row.without_reason === 0, `${row.without_reason} failed results have no reason`);
    check(row.without_image === 0, `${row.without_image} succeeded results have no stored image`);
  }
  // A second write would log "Rendered in" twice, or "Finished, but … nothing stored" for a result that was not cancelled.
  const [written] = await db.execute<{ twice: number; not_stored: number; no_line: number }>(sql`
    select
      count(*) filter (where rendered > 1)::int as twice,
      count(*) filter (where not_stored > 0 and status <> 'cancelled')::int as not_stored,
      count(*) filter (where rendered = 0 and status = 'succeeded')::int as no_line
    from (
      select r.id, r.status,
        count(l.id) filter (where l.message like 'Rendered in %') as rendered,
        count(l.id) filter (where l.message like 'Finished, but%') as not_stored
      from results r left join job_logs l on l.result_id = r.id
      group by r.id, r.status) per_result`);
  console.log(`  pictures written twice: ${written.twice}; succeeded results whose "Rendered" log line was lost: ${written.no_line}`);
  check(written.twice === 0, `${written.twice} results were rendered and stored more than once`);
  check(written.not_stored === 0, `${written.not_stored} results had a second completion refused although not cancelled`);
  const steps = await db.execute<{ status: string; count: number; without_reason: number }>(
    sql`select status::text, count(*)::int as count, count(*) filter (where status = 'failed' and message is null)::int as without_reason from upload_steps group by status`,
  );
  for (const row of steps) {
    console.log(`  upload steps ${row.status}: ${row.count}`);
    check(["succeeded", "failed"].includes(row.status), `${row.count} upload steps ended ${row.status}`);
    check(row.without_reason === 0, `${row.without_reason} failed upload steps have no reason`);
  }
  const jobsLeft = await db.execute<{ task_identifier: string; count: number; locked: number }>(sql`
    select task_identifier, count(*)::int as count, count(*) filter (where locked_at is not null)::int as locked
    from graphile_worker.jobs where task_identifier not in ('housekeeping', 'run_schedules', 'check_sources', 'roll_up_usage') group by task_identifier`);
  for (const row of jobsLeft) check(false, `${row.count} ${row.task_identifier} jobs left in the queue (${row.locked} locked)`);
  console.log(`  jobs left in graphile-worker's queue (besides the crontab's): ${jobsLeft.reduce((sum, row) => sum + row.count, 0)}`);

  // ---- The web throughout ----

  const outsideOutage = probes.filter((probe) => !isDuringOutage(probe) && probe.status !== 200);
  const duringOutage = probes.filter(isDuringOutage);
  const hung = probes.filter((probe) => probe.status === "timeout");
  const badDuringOutage = duringOutage.filter((probe) => probe.status !== 200 && probe.status !== 503);
  check(
    outsideOutage.length === 0,
    `${outsideOutage.length} probes failed while Postgres was up: ${JSON.stringify(outsideOutage.slice(0, 5))}`,
  );
  check(hung.length === 0, `${hung.length} probes got no answer within ${seconds(PROBE_TIMEOUT_MS)}`);
  check(
    badDuringOutage.length === 0,
    `${badDuringOutage.length} probes during the outage answered neither 200 nor 503: ${JSON.stringify(badDuringOutage.slice(0, 5))}`,
  );
  check(probes.length > 0, "the prober recorded nothing");

  // ---- Summary ----

  const runTime = performance.now() - runStartedAt;
  console.log(`\n${"scenario".padEnd(62)} ${"jobs".padEnd(34)} ${"outcome".padEnd(46)} ${"web p99 / max".padEnd(16)} not 200`);
  for (const report of reports) {
    const web = summariseProbes(report);
    console.log(
      `${report.name.slice(0, 61).padEnd(62)} ${report.jobs.padEnd(34)} ${report.outcome.slice(0, 45).padEnd(46)} ${`${web.p99.toFixed(0)} / ${web.max.toFixed(0)} ms`.padEnd(16)} ${web.failures}`,
    );
  }
  console.log(
    `\n${probes.length} probes; during the outage: ${duringOutage.length} (${[...new Set(duringOutage.map((probe) => `${probe.target} ${probe.status}`))].join(", ")}); whole run ${seconds(runTime)}; logs in ${path.relative(process.cwd(), logDir)}/`,
  );
} catch (error) {
  if (cleaning) await new Promise(() => {}); // interrupted: the signal handler is stopping everything and exits
  console.error(`\n✗ the run stopped: ${error instanceof Error ? error.stack : String(error)}`);
  console.error(`  logs of every process in ${path.relative(process.cwd(), logDir)}/`);
  await cleanUp();
  process.exit(1);
}

await cleanUp();
if (violations.length > 0) {
  console.error(`\n✗ ${violations.length} violation(s):\n${violations.map((violation) => `  - ${violation}`).join("\n")}`);
  process.exit(1);
}
console.log("\n✓ every job accounted for: none lost, no result written twice, the web answered throughout");
process.exit(0);
