#!/usr/bin/env node
// The `longrun` command (package.json "bin"). The CLI is TypeScript run through
// tsx's loader, a runtime dependency already, so there is no build step; paths
// resolve from this file, so it works through `npm link` from any directory.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
// `longrun status ID --json | head -c 20`: a reader that stops early is not an error.
process.stdout.on("error", (/** @type {NodeJS.ErrnoException} */ error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const { run } = await import("./main.ts");
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});
