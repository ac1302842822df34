import { existsSync, readFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";

/**
 * The failed tests of a Vitest run, from its JSON reporter's file, one line each.
 * `npm test` prints them last: a CI log is often read from its tail, and the
 * e2e suite's server logs would otherwise bury the integration suite's failures.
 */
export function vitestFailures(jsonFile: string): string[] {
  if (!existsSync(jsonFile)) return [`no report at ${jsonFile}: the run ended before writing it`];
  const report = JSON.parse(readFileSync(jsonFile, "utf8")) as {
    testResults: {
      name: string;
      status: string;
      message?: string;
      assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
    }[];
  };
  const lines: string[] = [];
  for (const file of report.testResults) {
    const path = file.name.replace(`${process.cwd()}/`, "");
    const failedTests = file.assertionResults.filter((test) => test.status === "failed");
    for (const test of failedTests) lines.push(`${path} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
    // A file that failed outside its tests (a hook, an import) has no failed assertion.
    if (file.status === "failed" && failedTests.length === 0) lines.push(`${path}: ${firstLine(file.message)}`);
  }
  return lines;
}

function firstLine(message: string | undefined): string {
  return stripVTControlCharacters(message ?? "(no message)")
    .trim()
    .split("\n")[0]
    .slice(0, 300);
}

type PlaywrightSuite = {
  title: string;
  specs?: { title: string; file: string; ok: boolean; tests: { results: { error?: { message?: string } }[] }[] }[];
  suites?: PlaywrightSuite[];
};

/** The failed tests of a Playwright run, from its JSON reporter's file, one line each. */
export function playwrightFailures(jsonFile: string): string[] {
  if (!existsSync(jsonFile)) return [`no report at ${jsonFile}: the run ended before writing it`];
  const report = JSON.parse(readFileSync(jsonFile, "utf8")) as { suites: PlaywrightSuite[]; errors: { message?: string }[] };
  const lines = report.errors.map((error) => firstLine(error.message));
  const visit = (suite: PlaywrightSuite, titles: string[]) => {
    for (const spec of suite.specs ?? []) {
      if (spec.ok) continue;
      const error = spec.tests.flatMap((test) => test.results).find((result) => result.error)?.error;
      lines.push(`${spec.file} > ${[...titles, spec.title].join(" > ")}: ${firstLine(error?.message)}`);
    }
    for (const child of suite.suites ?? []) visit(child, [...titles, child.title]);
  };
  for (const suite of report.suites) visit(suite, []);
  return lines;
}
