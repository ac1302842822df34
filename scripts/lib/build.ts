import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { NEXT_BIN } from "./processes";

const WEB_SOURCES = ["app", "components", "lib", "db", "jobs", "proxy.ts", "next.config.mjs", "postcss.config.mjs", "package.json", "tsconfig.json"];

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

/** Builds the web unless .next holds a build newer than every source it depends on. */
export function buildWebIfNeeded() {
  const buildId = ".next/BUILD_ID";
  if (existsSync(buildId) && statSync(buildId).mtimeMs > Math.max(...WEB_SOURCES.map(newestMtime))) return;
  console.log("Building the web (next build)…");
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error("next build failed");
}
