import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export type Service = { name: string; child: ChildProcess; exited: Promise<number | null> };

const COLORS: Record<string, string> = { web: "\x1b[36m", worker: "\x1b[35m", "worker:large": "\x1b[34m", webdav: "\x1b[32m" };

/** Starts a child process whose output lines are prefixed with its name (and go to `output`, stdout by default). */
export function startService(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  output: (line: string) => void = (line) => process.stdout.write(line),
): Service {
  // Own process group: a Ctrl-C in the terminal reaches the launcher only, which then
  // stops the children in order (a worker given SIGINT and SIGTERM at once would exit hard).
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = `${COLORS[name] ?? ""}[${name}]\x1b[0m `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) output(prefix + line + "\n");
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { name, child, exited };
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopService(service: Service, graceMs = 15_000) {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill("SIGTERM");
  const timer = setTimeout(() => service.child.kill("SIGKILL"), graceMs);
  await service.exited;
  clearTimeout(timer);
}

export async function waitForHttp(url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { redirect: "manual" });
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export const NEXT_BIN = "node_modules/next/dist/bin/next";
/** TypeScript entry points run through tsx's loader in plain node. */
export const nodeWithTsx = (entry: string, args: string[] = []): [string, string[]] => [
  process.execPath,
  ["--import", "tsx", entry, ...args],
];
