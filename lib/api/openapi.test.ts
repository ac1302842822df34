import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { compileErrors, validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "./openapi";

const API_DIR = "app/api/v1";
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Every route handler under app/api/v1 as "METHOD /path/{param}", read from the files' exports. */
function routeOperations(dir = API_DIR): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return routeOperations(path);
    if (entry !== "route.ts") return [];
    const apiPath = `/${relative(API_DIR, dir)}`.replace(/\[(\w+)\]/g, "{$1}");
    const source = readFileSync(path, "utf8");
    return METHODS.filter((method) => new RegExp(`export (const|(async )?function) ${method}\\b`).test(source)).map(
      (method) => `${method} ${apiPath}`,
    );
  });
}

describe("the OpenAPI document", () => {
  const document = buildOpenApiDocument();

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(result.specification).toBe("OpenAPI");
    expect(document.openapi).toBe("3.1.0");
  });

  it("documents exactly the routes that exist", () => {
    const documented = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item as object)
        .filter((key) => (METHODS as readonly string[]).includes(key.toUpperCase()))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(existsSync(API_DIR)).toBe(true);
    expect(documented.sort()).toEqual(routeOperations().sort());
  });

  it("describes request bodies with the handlers' own limits", () => {
    const schemas = document.components?.schemas as Record<string, { properties: Record<string, { maximum?: number; default?: unknown }> }>;
    expect(schemas.CreateRender.properties.width).toMatchObject({ maximum: 4096, default: 512 });
    expect(schemas.CreateRender.properties.depth).toMatchObject({ maximum: 5000 });
  });
});
