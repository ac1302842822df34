/**
 * Queries through postgres.js while Postgres is stopped (fast shutdown) and
 * started again, over and over: how long does each query wait, and how does it end?
 *
 *   npm run bench:pg-restart -- [cycles=25] [intervalMs=15]
 *   npm run bench:pg-restart -- --smoke      (2 cycles)
 *
 * A throwaway embedded Postgres in /tmp; the web's client (db/client.ts with
 * max 10, prepare false), or with CLIENT=postgres-defaults the options it had
 * before connect_timeout and backoff were set. Two queries are fired every
 * intervalMs from start to end; Postgres stays up 0.5–3 s between restarts and
 * is down 0–3 s each time (every fourth restart at once). Reported apart: the
 * queries sent while it was up, and those sent while it was down, with how long
 * after it was back each ended. Results in docs/faults.md.
 *
 * PGJS_TRACE=1 prints, for the slowest queries, what their connections did, and
 * PGJS_TRACE_FILE=path writes every event; both need temporary calls
 * `globalThis.__pgTrace?.(what, connectionId, { q: initial, ...details })` in a
 * copy of node_modules/postgres (break its hard links first): without them the
 * trace is empty.
 */
import { rmSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { createDatabase } from "../db/client";
import { startEmbeddedPostgres } from "../scripts/lib/embedded-postgres";
import { freePort } from "../scripts/lib/processes";
import { isSmoke } from "../scripts/lib/smoke";

const [cyclesArg, intervalArg] = process.argv.slice(2).filter((arg) => arg !== "--smoke");
const cycles = Number(cyclesArg ?? (isSmoke ? 2 : 25));
const intervalMs = Number(intervalArg ?? 15);
const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
const dataDir = `/tmp/longrun-pg-restart-${port}`;
const SLOW_MS = 2_000;

type Event = { at: number; what: string; connection: number; details: Record<string, unknown> };
type Query = { id: number; at: number; ms?: number; outcome?: string };

const t0 = performance.now();
const now = () => performance.now() - t0;
const trace: Event[] = [];
const queryIds = new WeakMap<object, number>();
if (process.env.PGJS_TRACE) {
  (globalThis as { __pgTrace?: unknown }).__pgTrace = (
    what: string,
    connection: number,
    { q, ...details }: { q?: object } & Record<string, unknown>,
  ) => {
    trace.push({ at: now(), what, connection, details: { ...details, query: q ? queryIds.get(q) : undefined } });
  };
}

let server = await startEmbeddedPostgres({ dataDir, port });
// The web's client (db/index.ts), or the options it had before connect_timeout and backoff
// were set (postgres.js's defaults: 30 s, and a backoff up to 20 s).
const sql =
  process.env.CLIENT === "postgres-defaults"
    ? postgres(server.url(), {
        max: 10,
        prepare: false,
        idle_timeout: 30,
        connection: { application_name: "pg-restart" },
        onnotice: () => {},
      })
    : createDatabase(server.url(), { max: 10, prepare: false, applicationName: "pg-restart" }).$client;
await sql`select 1`;

const marks: { at: number; what: string }[] = [];
const queries: Query[] = [];
const pending = new Set<Query>();
function fire() {
  const query: Query = { id: queries.length, at: now() };
  queries.push(query);
  pending.add(query);
  const request = sql`select 1 as one`;
  queryIds.set(request, query.id);
  request.then(
    () => settle(query, "ok"),
    (error: { code?: string; message?: string }) => settle(query, error.code ?? error.message ?? "error"),
  );
}
function settle(query: Query, outcome: string) {
  query.ms = now() - query.at;
  query.outcome = outcome;
  pending.delete(query);
}
const firing = setInterval(() => {
  fire();
  fire();
}, intervalMs);

for (let cycle = 0; cycle < cycles; cycle++) {
  await sleep(500 + Math.random() * 2_500);
  marks.push({ at: now(), what: `stop ${cycle}` });
  await server.stop();
  marks.push({ at: now(), what: `stopped ${cycle}` });
  // Every fourth gap is (almost) none: a restart as fast as pg_ctl allows.
  await sleep(cycle % 4 === 0 ? 0 : Math.random() * 3_000);
  marks.push({ at: now(), what: `start ${cycle}` });
  server = await startEmbeddedPostgres({ dataDir, port });
  marks.push({ at: now(), what: `started ${cycle}` });
  process.stdout.write(".");
}
await sleep(3_000);
clearInterval(firing);
const waitUntil = now() + 60_000;
while (pending.size > 0 && now() < waitUntil) await sleep(100);
const hung = [...pending];

// ---- Report ----
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const outages = marks
  .filter((mark) => mark.what.startsWith("stop "))
  .map((stop) => ({ from: stop.at, to: marks.find((mark) => mark.what === stop.what.replace("stop", "started"))!.at }));
/** Sent while Postgres was up (accepting connections), or during an outage: then how long after it was back did the query end? */
const outageOf = (query: Query) => outages.find((outage) => query.at >= outage.from && query.at < outage.to);
const endOf = (query: Query) => query.at + (query.ms ?? Number.POSITIVE_INFINITY);
const pastRecovery = (query: Query) => Math.max(0, endOf(query) - (outageOf(query)?.to ?? query.at));
const sentUp = queries.filter((query) => !outageOf(query));
const sentDown = queries.filter((query) => outageOf(query));
const count = (list: Query[]) => {
  const outcomes = new Map<string, number>();
  for (const query of list) outcomes.set(query.outcome ?? "none", (outcomes.get(query.outcome ?? "none") ?? 0) + 1);
  return [...outcomes].map(([outcome, n]) => `${outcome} ${n}`).join(", ");
};
const describe = (list: Query[], label: string) => {
  const waits = list.map(pastRecovery).sort((a, b) => a - b);
  const slow = list.filter((query) => pastRecovery(query) > SLOW_MS);
  if (waits.length === 0) {
    console.log(`${label}: none`);
    return slow;
  }
  console.log(
    `${label}: ${list.length} (${count(list)}); ended after Postgres was up: p50 ${waits[Math.floor(waits.length / 2)].toFixed(0)} ms, p99 ${waits[Math.floor(waits.length * 0.99)].toFixed(0)} ms, max ${waits.at(-1)!.toFixed(0)} ms; over ${seconds(SLOW_MS)}: ${slow.length} (${count(slow) || "none"})`,
  );
  return slow;
};
console.log(
  `\n${cycles} restarts (down ${outages.map((outage) => seconds(outage.to - outage.from)).join(", ")}), 2 queries every ${intervalMs} ms, client ${process.env.CLIENT === "postgres-defaults" ? "with postgres.js defaults (connect_timeout 30 s, backoff up to 20 s)" : "of db/client.ts"}`,
);
const slowUp = describe(sentUp, "sent while Postgres was up");
const slowDown = describe(sentDown, "sent while it was down (from stop until start -w returned)");
console.log(`no answer within 60 s: ${hung.length}`);
for (const query of [...slowUp, ...slowDown].sort((a, b) => pastRecovery(b) - pastRecovery(a)).slice(0, Number(process.env.SHOW ?? 10))) {
  const outage = outageOf(query);
  const cycle = outages.findLastIndex((candidate) => candidate.from <= query.at);
  console.log(
    `  query ${query.id} sent ${outage ? `${seconds(query.at - outage.from)} after stop ${cycle}` : `${seconds(query.at - (outages[cycle]?.to ?? 0))} after restart ${cycle} was up`}: ${query.ms === undefined ? "no answer" : `${query.outcome} after ${seconds(query.ms)}`}`,
  );
  if (trace.length > 0) {
    const own = trace.filter((event) => event.details.query === query.id);
    const connections = new Set(own.map((event) => event.connection).filter((id) => id > 0));
    for (const event of trace
      .filter(
        (event) =>
          event.at >= query.at - 5 &&
          event.at <= endOf(query) + 5 &&
          (event.details.query === query.id || connections.has(event.connection)),
      )
      .slice(0, 12)) {
      console.log(`    ${seconds(event.at)} ${event.what} #${event.connection} ${JSON.stringify(event.details)}`);
    }
  }
}
if (process.env.PGJS_TRACE_FILE)
  writeFileSync(
    process.env.PGJS_TRACE_FILE,
    [...marks.map((mark) => JSON.stringify(mark)), ...trace.map((event) => JSON.stringify(event))].join("\n"),
  );
await sql.end({ timeout: 1 });
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
