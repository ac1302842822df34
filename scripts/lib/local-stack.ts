import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { migrateDatabase } from "@/db/migrate";
import { getEnvOrExit, getLocalStackEnv } from "@/lib/env";
import { buildWorker, buildWorkerCopy } from "../build-worker";
import { buildWeb, buildWebIfNeeded, copyStandaloneWeb, startStandaloneWeb } from "./build";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres";
import { NEXT_BIN, nodeWithTsx, startService, stopService, waitForHttp, type Service } from "./processes";

/**
 * Everything on one machine, for `npm start` (mode "start"), `npm run dev` ("dev")
 * and `npm run start:production` ("production"). Without DATABASE_URL, an embedded
 * Postgres keeps its data under .data/; then migrations, the builds, the web, one
 * worker, one worker for the large-render queue and (except in production mode)
 * the WebDAV server. Ctrl-C stops them in order.
 *
 * "start" and "production" run the same artefacts a deploy ships: the standalone
 * web (node .next/standalone/server.js) and the bundled worker. "start" rebuilds
 * the web only when a source changed; "production" always builds both from scratch
 * and runs nothing through tsx.
 */
export type StackMode = "start" | "dev" | "production";

const DATA_DIR = ".data";
const { PORT: port, WEBDAV_PORT: webdavPort, EMBEDDED_POSTGRES_PORT: embeddedPostgresPort, ...localEnv } = getEnvOrExit(getLocalStackEnv);

let embedded: EmbeddedPostgres | undefined;
let services: Service[] = [];
let isStopping = false;
const removeCopies: (() => void)[] = [];

async function stopAll(exitCode: number) {
  if (isStopping) return;
  isStopping = true;
  console.log("Stopping…");
  // Web and worker first (the worker finishes or hands back its jobs), the database last.
  await Promise.all(services.map((service) => stopService(service)));
  await embedded?.stop();
  for (const remove of removeCopies) remove();
  process.exit(exitCode);
}

export function runLocalStack(mode: StackMode) {
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  mkdirSync(DATA_DIR, { recursive: true });
  main(mode).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    void stopAll(1);
  });
}

async function main(mode: StackMode) {
  const isDev = mode === "dev";
  let databaseUrl = localEnv.DATABASE_URL;
  if (!databaseUrl) {
    console.log(`Starting embedded Postgres (data in ${DATA_DIR}/postgres, port ${embeddedPostgresPort})…`);
    embedded = await startEmbeddedPostgres({ dataDir: `${DATA_DIR}/postgres`, port: embeddedPostgresPort });
    await ensureDatabase(embedded.url(), "longrun");
    databaseUrl = embedded.url("longrun");
  }
  await migrateDatabase(databaseUrl);

  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: localEnv.AUTH_SECRET ?? persistedSecret(`${DATA_DIR}/auth-secret`),
    NEXT_TELEMETRY_DISABLED: "1",
  };
  if (mode === "start") buildWebIfNeeded();
  if (mode === "production") buildWeb();
  // The worker as production runs it (bundled, plain node, with the node_modules traced into
  // its build; in production mode built outside the checkout, as the image holds it); under tsx with --dev.
  const workerCopy = mode === "production" ? await buildWorkerCopy() : undefined;
  if (workerCopy) removeCopies.push(workerCopy.remove);
  const workerBundle = isDev ? null : (workerCopy?.entry ?? (await buildWorker()));
  const workerCommand = (args: string[] = []): [string, string[]] =>
    workerBundle ? [process.execPath, [workerBundle, ...args]] : nodeWithTsx("worker/main.ts", args);

  // Production mode serves a copy outside the checkout, as the image does (see copyStandaloneWeb).
  const webCopy = mode === "production" ? copyStandaloneWeb() : undefined;
  if (webCopy) removeCopies.push(webCopy.remove);
  const web = isDev
    ? startService("web", process.execPath, [NEXT_BIN, "dev", "--port", String(port)], env)
    : startStandaloneWeb({ port, env, dir: webCopy?.dir });
  const worker = startService("worker", ...workerCommand(), env);
  // The dedicated queue for large renders: one at a time, as on the special-hardware machine.
  const largeWorker = startService("worker:large", ...workerCommand(["--only", "large", "--concurrency", "1"]), env);
  services = [web, worker, largeWorker];
  // WebDAV (mount your files and results): its own process, as Next.js cannot answer WebDAV's methods.
  const hasWebdav = mode !== "production";
  if (hasWebdav) services.push(startService("webdav", ...nodeWithTsx("webdav/main.ts"), { ...env, WEBDAV_PORT: String(webdavPort) }));
  for (const service of services) {
    void service.exited.then((code) => {
      if (!isStopping) {
        console.error(`${service.name} exited unexpectedly (code ${code}); stopping everything.`);
        void stopAll(1);
      }
    });
  }
  await waitForHttp(`http://127.0.0.1:${port}/sign-in`);
  if (hasWebdav) await waitForHttp(`http://127.0.0.1:${webdavPort}/`);
  console.log(`\nLongrun is ready at http://localhost:${port}  (Ctrl-C to stop)`);
  if (hasWebdav)
    console.log(`WebDAV at http://localhost:${webdavPort}/  (user: your email, password: an API token from the Tokens page)\n`);
}

async function ensureDatabase(serverUrl: string, name: string) {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
    if (!exists) await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end();
  }
}

/** A session secret generated once, so sessions survive restarts. */
function persistedSecret(file: string) {
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}
