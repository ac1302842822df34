import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { freePort } from "@/scripts/lib/processes";
import { findSystemProgram } from "@/scripts/lib/system-programs";
import { waitFor } from "./wait-for";

/**
 * PgBouncer in transaction mode in front of a Postgres server: what a serverless
 * deploy's pooled URL points at. Debian's `pgbouncer` package (npm test installs it).
 * `serverConnections` is its pool per database: fewer than the clients' connections,
 * so clients share server connections as on a busy pooler.
 */
export async function startTransactionPooler(serverUrl: string, options: { serverConnections: number }) {
  const binary = findSystemProgram("pgbouncer");
  if (!binary) throw new Error("pgbouncer not found: apt-get install pgbouncer (npm test installs it as root)");
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || "postgres");
  const password = decodeURIComponent(server.password);
  const dir = mkdtempSync(path.join(tmpdir(), "longrun-pgbouncer-"));
  chmodSync(dir, 0o755); // as root, pgbouncer runs as the postgres user and reads its files here
  const port = await freePort();
  writeFileSync(path.join(dir, "users.txt"), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    path.join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${server.hostname} port=${server.port || 5432} user=${user}${password ? ` password=${password}` : ""}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust", // clients on loopback only; the server connection carries the password
      `auth_file = ${path.join(dir, "users.txt")}`,
      "pool_mode = transaction",
      // Session state (prepared statements, SET, session locks) is gone after every transaction,
      // as when the next one lands on another server connection: here always, not by chance.
      "server_reset_query = DISCARD ALL",
      "server_reset_query_always = 1",
      `default_pool_size = ${options.serverConnections}`,
      "max_client_conn = 200",
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  // PgBouncer refuses to run as root.
  const asUser = process.getuid?.() === 0 ? ["-u", "postgres"] : [];
  const child = spawn(binary, [...asUser, path.join(dir, "pgbouncer.ini")], { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  child.stdout.on("data", (chunk) => output.push(String(chunk)));
  child.stderr.on("data", (chunk) => output.push(String(chunk)));
  const exited = new Promise((resolve) => child.on("exit", resolve));

  const url = (database: string) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`;
  const answers = async () => {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited:\n${output.join("")}`);
    const sql = postgres(url("postgres"), { max: 1, onnotice: () => {} });
    return sql`select 1`
      .then(
        () => true,
        () => false,
      )
      .finally(() => sql.end());
  };
  await waitFor(answers, (isUp) => isUp, 10_000);

  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
