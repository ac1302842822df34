import { spawnSync } from "node:child_process";
import path from "node:path";
import { installNodeLts } from "./lib/node-lts";

/**
 * `npm run test:lts`: the unit and integration steps again on Node's current LTS, which the
 * images run (npm test runs everything on the machine's own Node, the oldest we support).
 * Other arguments replace the steps: `npm run test:lts -- unit`.
 */
const lts = installNodeLts();
const steps = process.argv.slice(2);
console.log(`\nRunning ${steps.length > 0 ? steps.join(" ") : "unit integration"} on Node ${lts.version}`);
const result = spawnSync("npm", ["test", "--", ...(steps.length > 0 ? steps : ["unit", "integration"])], {
  stdio: "inherit",
  // First on PATH: npm, tsx's shebang and every child process run on it too.
  env: { ...process.env, PATH: `${lts.binDir}${path.delimiter}${process.env.PATH ?? ""}` },
});
process.exit(result.status ?? 1);
