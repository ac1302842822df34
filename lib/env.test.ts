import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_VARIABLES } from "./env";

describe(".env.example", () => {
  it("lists every variable the web, worker and WebDAV server read", () => {
    const example = readFileSync(".env.example", "utf8");
    const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(ENV_VARIABLES.filter((name) => name !== "NODE_ENV" && !listed.has(name))).toEqual([]);
    expect(ENV_VARIABLES).toContain("DATABASE_URL");
  });
});
