import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

/**
 * The programs outside npm that `npm test` needs, found before any step runs: the suite
 * installs them itself where it can (root on Debian or Ubuntu), and otherwise stops at once
 * naming every missing one, instead of failing half an hour in.
 */
export type TestStep = "lint" | "unit" | "integration" | "e2e" | "smoke" | "stress";

type SystemProgram = {
  name: string;
  /** Debian's package that installs it. */
  debianPackage: string;
  /** Where Debian puts it when that is not on every user's PATH (sbin). */
  knownPaths: string[];
  neededBy: TestStep[];
  why: string;
};

export const SYSTEM_PROGRAMS: SystemProgram[] = [
  {
    name: "chromium",
    debianPackage: "chromium",
    knownPaths: ["/usr/bin/chromium"],
    neededBy: ["e2e", "smoke"],
    why: "the browser Playwright drives (it cannot download its own here)",
  },
  {
    name: "litmus",
    debianPackage: "litmus",
    knownPaths: [],
    neededBy: ["integration"],
    why: "the WebDAV compliance suite run against the WebDAV server",
  },
  {
    name: "pgbouncer",
    debianPackage: "pgbouncer",
    knownPaths: ["/usr/sbin/pgbouncer"],
    neededBy: ["integration"],
    why: "the transaction pooler put in front of Postgres, as a serverless web's pooled URL",
  },
  {
    name: "file",
    debianPackage: "file",
    knownPaths: [],
    neededBy: ["smoke"],
    why: "libmagic's `file --mime-type`, the reference bench:types measures the upload step's type detection against",
  },
  {
    name: "stress",
    debianPackage: "stress",
    knownPaths: [],
    neededBy: ["stress"],
    why: "keeps every core busy beside `npm run test:stress`",
  },
];

/** Where one of SYSTEM_PROGRAMS is installed, if it is. */
export function findSystemProgram(name: string): string | undefined {
  const program = SYSTEM_PROGRAMS.find((candidate) => candidate.name === name);
  return findProgram(name, program?.knownPaths);
}

/** The program's path: on PATH, or where Debian installs it. */
export function findProgram(name: string, knownPaths: string[] = []): string | undefined {
  const onPath = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name));
  return [...onPath, ...knownPaths].find(isExecutable);
}

function isExecutable(file: string) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const missingFor = (steps: TestStep[]) =>
  SYSTEM_PROGRAMS.filter((program) => program.neededBy.some((step) => steps.includes(step))).filter(
    (program) => !findProgram(program.name, program.knownPaths),
  );

const canInstallWithApt = () => process.getuid?.() === 0 && findProgram("apt-get") !== undefined;

/**
 * Makes sure every program the given steps need is here. As root with apt-get it installs the
 * missing ones (one `apt-get update`, one `apt-get install`); otherwise it throws one message
 * that names them all and the command to run.
 */
export function ensureSystemPrograms(steps: TestStep[]) {
  const missing = missingFor(steps);
  if (missing.length === 0) return;
  const packages = missing.map((program) => program.debianPackage);
  const list = missing.map((program) => `  - ${program.name}: ${program.why}`).join("\n");

  if (!canInstallWithApt()) {
    throw new Error(
      `These tests need programs that are not installed:\n${list}\n` +
        `Install them (Debian or Ubuntu) and run npm test again:\n  sudo apt-get update && sudo apt-get install -y ${packages.join(" ")}`,
    );
  }
  console.log(`These tests need programs that are not installed; installing them with apt-get:\n${list}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", ...packages],
  ]) {
    const result = spawnSync("apt-get", args, { stdio: "inherit", env });
    if (result.status !== 0)
      throw new Error(`apt-get ${args.join(" ")} failed (exit ${result.status}); install ${packages.join(" ")} yourself`);
  }
  const stillMissing = missingFor(steps);
  if (stillMissing.length > 0)
    throw new Error(`apt-get finished, but these are still missing: ${stillMissing.map((p) => p.name).join(", ")}`);
}
