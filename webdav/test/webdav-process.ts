import { spawn } from "node:child_process";
import { freePort, nodeWithTsx, waitForHttp } from "@/scripts/lib/processes";

export type WebdavProcess = Awaited<ReturnType<typeof startWebdavProcess>>;

/**
 * The real WebDAV process, `webdav/main.ts` as `npm start` runs it, on a free
 * port of 127.0.0.1. Its output is kept for failure messages; `exitCode` stays
 * null while it runs.
 */
export async function startWebdavProcess(databaseUrl: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const [command, args] = nodeWithTsx("webdav/main.ts");
  const child = spawn(command, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, WEBDAV_PORT: String(port), WEBDAV_HOSTNAME: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => output.push(String(chunk)));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/`);
  return {
    port,
    baseUrl,
    output,
    get exitCode() {
      return child.exitCode ?? child.signalCode;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
