import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NEXT_BIN, startService } from "./processes";

const WEB_SOURCES = [
  "app",
  "components",
  "lib",
  "server",
  "db",
  "jobs",
  "public",
  "instrumentation.ts",
  "proxy.ts",
  "next.config.mjs",
  "postcss.config.mjs",
  "package.json",
  "tsconfig.json",
];

/** The web as production runs it: next.config.mjs's `output: "standalone"`, with its static files copied in. */
export const STANDALONE_DIR = ".next/standalone";
const STANDALONE_SERVER = path.join(STANDALONE_DIR, "server.js");

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

/** Builds the web unless .next holds a standalone build newer than every source it depends on. */
export function buildWebIfNeeded() {
  const buildId = ".next/BUILD_ID";
  const isFresh = existsSync(buildId) && statSync(buildId).mtimeMs > Math.max(...WEB_SOURCES.map(newestMtime));
  if (isFresh && existsSync(STANDALONE_SERVER)) {
    // A `next build` run by hand leaves the standalone server without its static files.
    if (!existsSync(path.join(STANDALONE_DIR, ".next/static"))) copyStaticFiles();
    return;
  }
  buildWeb();
}

/** `next build`, then the copies Next's standalone docs ask for: .next/static and public/ are not traced. */
export function buildWeb() {
  console.log("Building the web (next build)…");
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error("next build failed");
  copyStaticFiles();
}

function copyStaticFiles() {
  cpSync(".next/static", path.join(STANDALONE_DIR, ".next/static"), { recursive: true });
  if (existsSync("public")) cpSync("public", path.join(STANDALONE_DIR, "public"), { recursive: true });
}

/**
 * A copy of the built web outside the checkout, as the web image holds it: there
 * the server reaches only the node_modules Next traced, not the checkout's, so a
 * file the trace missed fails here rather than in production.
 */
export function copyStandaloneWeb(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "longrun-web-"));
  // Turbopack links hashed package names to ../../node_modules: keep those links relative.
  cpSync(STANDALONE_DIR, dir, { recursive: true, verbatimSymlinks: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

type WebOptions = { port: number; env: NodeJS.ProcessEnv; hostname?: string; dir?: string };

/**
 * The built web's command: `node server.js` in the standalone build (or a copy of
 * it), as a container runs it. `hostname` defaults to every interface, as `next start` listens.
 */
export function standaloneWebCommand(options: WebOptions): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env = {
    ...options.env,
    NODE_ENV: "production" as const,
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(options.port),
    // server.js reads HOSTNAME, which shells and containers set to the machine's name.
    HOSTNAME: options.hostname ?? "0.0.0.0",
  };
  return { command: process.execPath, args: [path.resolve(options.dir ?? STANDALONE_DIR, "server.js")], env };
}

export function startStandaloneWeb(options: WebOptions) {
  const { command, args, env } = standaloneWebCommand(options);
  return startService("web", command, args, env);
}
