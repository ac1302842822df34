import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The Node.js LTS the images run and CI proves, beside the oldest supported Node on development machines. */
export const NODE_LTS_MAJOR = 24;

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PREFIX = path.join(ROOT, ".data", `node${NODE_LTS_MAJOR}`);

/**
 * Node's own builds are published on the npm registry as node-<platform>-<arch> (the one
 * registry every machine here reaches). Installed into .data/, outside the project's
 * dependencies; returns the folder holding `node`, to put first on PATH.
 */
export function installNodeLts(): { binDir: string; includeDir: string; version: string } {
  const packageDir = path.join(PREFIX, "node_modules", `node-${os.platform()}-${os.arch()}`);
  const binDir = path.join(packageDir, "bin");
  const node = path.join(binDir, "node");
  if (!existsSync(node) || !versionOf(node).startsWith(`v${NODE_LTS_MAJOR}.`)) {
    console.log(
      `Installing Node ${NODE_LTS_MAJOR} (node-${os.platform()}-${os.arch()} from the npm registry) into ${path.relative(ROOT, PREFIX)}`,
    );
    const installed = spawnSync(
      "npm",
      [
        "install",
        "--prefix",
        PREFIX,
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
        `node-${os.platform()}-${os.arch()}@${NODE_LTS_MAJOR}`,
      ],
      { stdio: "inherit" },
    );
    if (installed.status !== 0) throw new Error(`could not install Node ${NODE_LTS_MAJOR} from the npm registry`);
  }
  return { binDir, includeDir: path.join(packageDir, "include", "node"), version: versionOf(node) };
}

function versionOf(node: string) {
  return spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
}
