import { copyFileSync, cpSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * `npm run build:worker [-- OUT_DIR]`: the worker as one ES module for plain `node`
 * (`node OUT_DIR/main.mjs`), as a container would run it: our TypeScript is
 * bundled ahead of time, so the process carries no tsx loader or transpile
 * cache. Packages stay in node_modules (sharp and others load native code);
 * the render thread's .mjs files are copied next to the bundle, where
 * `new URL("./render-thread.mjs", import.meta.url)` finds them.
 * The worker image's other commands are bundled beside it: `migrate.mjs` (with
 * the SQL migrations in `migrations/`, where db/migrate.ts looks for them) and
 * `webdav.mjs`.
 */
const root = fileURLToPath(new URL("..", import.meta.url));

export async function buildWorker(outDir = path.join(root, ".data/worker-build")) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: {
      main: path.join(root, "worker/main.ts"),
      migrate: path.join(root, "db/migrate.ts"),
      webdav: path.join(root, "webdav/main.ts"),
    },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    sourcemap: "linked",
    logLevel: "warning",
  });
  const renderDir = path.join(root, "lib/render");
  for (const file of readdirSync(renderDir).filter((name) => name.endsWith(".mjs"))) copyFileSync(path.join(renderDir, file), path.join(outDir, file));
  cpSync(path.join(root, "db/migrations"), path.join(outDir, "migrations"), { recursive: true });
  return path.join(outDir, "main.mjs");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = await buildWorker(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`worker bundled: node ${path.relative(process.cwd(), entry)} (and migrate.mjs, webdav.mjs beside it)`);
}
