import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));

// Two projects: fast pure unit tests, and integration tests that need a real
// Postgres (DATABASE_URL pointing at a migrated template, set by scripts/test.ts).
export default defineConfig({
  resolve: { alias: { "@": root } },
  test: {
    // next-auth imports "next/server" without an extension, which Node's ESM loader refuses; Vite resolves it.
    server: { deps: { inline: ["next-auth"] } },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{lib,server,db,jobs,worker,app,components,webdav,cli,docs,deploy}/**/*.test.ts"],
          exclude: ["**/*.integration.test.ts", "node_modules/**"],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["{lib,server,db,jobs,worker,app,components,webdav}/**/*.integration.test.ts"],
          globalSetup: ["./db/test/global-setup.ts"],
          // Files one at a time: several start real workers that render on every core,
          // and timing-sensitive tests (restarts, kills) should not compete for two cores.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
