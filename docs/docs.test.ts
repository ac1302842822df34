import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Keeps the docs honest where that is cheap: the scripts they tell people to run,
 * the environment variables they document, and the relative links and repository
 * paths they name must all exist.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

function markdownFilesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

const DOCS = ["README.md", "CONTRIBUTING.md", ...markdownFilesUnder("docs")];
const CONFIGURATION_DOC = "docs/operations/configuration.md";

/** `npm run <script>` anywhere in a doc, and the scripts a table row lists after one. */
function scriptsNamedIn(text: string): string[] {
  // A name followed by * (`npm run bench:*`) stands for a family of scripts, not one.
  const names = [...text.matchAll(/npm run ([a-z][\w:.-]*)(\*?)/g)].filter((match) => match[2] === "").map((match) => match[1]);
  for (const line of text.split("\n").filter((line) => line.startsWith("|") && line.includes("npm run "))) {
    // A table row that runs one script may list its siblings by name alone: `npm run bench:render`, `bench:save`.
    names.push(...[...line.matchAll(/`((?:bench|test|build|start|db|format):[\w-]+)`/g)].map((match) => match[1]));
  }
  return names;
}

/** The variables lib/env.ts reads: the keys of its zod schemas (upper-case object keys) and any process.env.X. */
function variablesReadByEnvModule(): Set<string> {
  const source = read("lib/env.ts");
  const keys = [...source.matchAll(/^\s*([A-Z][A-Z0-9_]+)\s*:/gm)].map((match) => match[1]);
  const direct = [...source.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]+)|\[["']([A-Z][A-Z0-9_]+)["']\])/g)].map(
    (match) => match[1] ?? match[2],
  );
  return new Set([...keys, ...direct]);
}

/** The configuration doc's table rows whose first cell is a variable in backticks. */
function variablesDocumented(): Set<string> {
  const rows = read(CONFIGURATION_DOC).matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm);
  return new Set([...rows].map((match) => match[1]));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, "");
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const text = heading.replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const TOP_LEVEL_FOLDERS = [
  "app",
  "bench",
  "cli",
  "components",
  "db",
  "deploy",
  "docs",
  "e2e",
  "jobs",
  "lib",
  "patches",
  "scripts",
  "server",
  "webdav",
  "worker",
];

describe("the docs", () => {
  it("name only npm scripts that package.json defines", () => {
    const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
    const missing = DOCS.flatMap((doc) =>
      scriptsNamedIn(read(doc))
        .filter((name) => !scripts.includes(name))
        .map((name) => `${doc}: npm run ${name}`),
    );
    expect([...new Set(missing)], "scripts the docs name but package.json does not define").toEqual([]);
  });

  it(`document in ${CONFIGURATION_DOC} exactly the environment variables lib/env.ts reads`, () => {
    const readByEnvModule = variablesReadByEnvModule();
    const documented = variablesDocumented();
    expect(readByEnvModule.size, "no variables found in lib/env.ts: has its shape changed?").toBeGreaterThan(5);
    expect(
      [...readByEnvModule].filter((name) => !documented.has(name)),
      `read by lib/env.ts but not documented in ${CONFIGURATION_DOC}`,
    ).toEqual([]);
    expect(
      [...documented].filter((name) => !readByEnvModule.has(name)),
      `documented in ${CONFIGURATION_DOC} but not read by lib/env.ts`,
    ).toEqual([]);
  });

  it("link only to files and headings that exist", () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      const text = read(doc).replace(/^```[\s\S]*?^```/gm, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split("#");
        const file = path === "" ? doc : join(dirname(doc), path);
        if (!existsSync(join(root, file))) {
          broken.push(`${doc}: ${target} (no such file)`);
        } else if (anchor && file.endsWith(".md") && !anchorsOf(read(file)).has(anchor)) {
          broken.push(`${doc}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken, "relative links that lead nowhere").toEqual([]);
  });

  it("name only repository paths that exist", () => {
    const missing: string[] = [];
    for (const doc of DOCS) {
      for (const [, quoted] of read(doc).matchAll(/`([^`\s]+)`/g)) {
        const path = quoted.replace(/#.*$/, "");
        const isRepositoryPath = TOP_LEVEL_FOLDERS.some((folder) => path.startsWith(`${folder}/`)) && !/[*…<]/.test(path);
        if (isRepositoryPath && !existsSync(join(root, path))) missing.push(`${doc}: ${quoted}`);
      }
    }
    expect([...new Set(missing)], "paths in backticks that are not in the repository").toEqual([]);
  });
});
