import {
  copyFileSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nodeFileTrace, resolve as resolveDependency } from "@vercel/nft";
import { build } from "esbuild";

/**
 * `npm run build:worker [-- OUT_DIR]`: the worker as one ES module for plain `node`
 * (`node OUT_DIR/main.mjs`), as a container would run it: our TypeScript is
 * bundled ahead of time, so the process carries no tsx loader or transpile
 * cache. Packages are left out of the bundle (sharp and others load native code);
 * the render thread's .mjs files are copied next to the bundle, where
 * `new URL("./render-thread.mjs", import.meta.url)` finds them.
 * The worker image's other commands are bundled beside it: `migrate.mjs` (with
 * the SQL migrations in `migrations/`, where db/migrate.ts looks for them) and
 * `webdav.mjs`.
 *
 * Then @vercel/nft (what Next uses for its standalone output) traces those
 * entry points through node_modules, following imports, requires, native
 * binaries (.node files and the libraries they load) and files read at run time,
 * and the files it finds are copied into `OUT_DIR/node_modules`: OUT_DIR runs on
 * its own, with no other node_modules (about 40 MB instead of the app's whole
 * production tree). Packages the lockfile marks dev-only are left out even when
 * a dependency names one (cosmiconfig's optional `typescript`, for .ts config
 * files the worker never reads), as in a production install.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const rootModules = path.join(root, "node_modules");

export async function buildWorker(outDir = path.join(root, ".data/worker-build")) {
  outDir = path.resolve(outDir);
  if (isInside(outDir, root)) throw new Error(`build-worker: ${outDir} holds the checkout; choose a directory of its own`);
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
  const renderFiles = readdirSync(renderDir).filter((name) => name.endsWith(".mjs"));
  for (const file of renderFiles) copyFileSync(path.join(renderDir, file), path.join(outDir, file));
  rmSync(path.join(outDir, "migrations"), { recursive: true, force: true });
  cpSync(path.join(root, "db/migrations"), path.join(outDir, "migrations"), { recursive: true });
  await copyTracedModules(outDir, ["main.mjs", "migrate.mjs", "webdav.mjs", ...renderFiles]);
  return path.join(outDir, "main.mjs");
}

/**
 * The worker built into a new directory outside the checkout, as the image holds it:
 * there the bundle reaches only the node_modules traced into it, so a file the
 * trace missed fails there (a test) rather than in production.
 */
export async function buildWorkerCopy(): Promise<{ dir: string; entry: string; remove: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), "longrun-worker-"));
  const entry = await buildWorker(dir);
  return { dir, entry, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Files in node_modules loaded by a path built at run time, which the trace cannot follow (emscripten's locateFile). */
const UNTRACEABLE_FILES = ["wasmagic/dist/libmagic-wrapper.wasm"];

/** Traces the entry points (file names in outDir) and copies what they need from node_modules into outDir/node_modules. */
async function copyTracedModules(outDir: string, entryPoints: string[]) {
  const devOnly = devOnlyPackages();
  // nft reports paths relative to `base`, which must hold both the output and node_modules.
  const base = path.parse(outDir).root;
  const { fileList, reasons } = await nodeFileTrace(
    entryPoints.map((file) => path.join(outDir, file)),
    {
      base,
      processCwd: outDir,
      mixedModules: true,
      // Packages named by the output's files resolve from the checkout (the output may lie outside it).
      resolve: (id, parent, job, cjsResolve) =>
        resolveDependency(id, isBare(id) && isInside(outDir, parent) ? path.join(root, path.basename(parent)) : parent, job, cjsResolve),
      ignore: (file: string) => devOnly.has(packageOf(path.join(base, file)) ?? ""),
    },
  );
  for (const file of UNTRACEABLE_FILES) fileList.add(path.relative(base, path.join(rootModules, file)));
  const leftOut = new Set([...reasons.entries()].filter(([, reason]) => reason.ignored).map(([file]) => packageOf(path.join(base, file))));

  const modulesOut = path.join(outDir, "node_modules");
  rmSync(modulesOut, { recursive: true, force: true });
  let count = 0;
  let bytes = 0;
  for (const file of [...fileList].sort()) {
    const source = path.join(base, file);
    if (isInside(outDir, source)) continue; // the bundle and the files copied beside it
    if (!isInside(rootModules, source)) {
      // The package.json above an output inside the checkout (read for its "type"; our files are .mjs).
      if (path.basename(source) === "package.json" && isInside(path.dirname(source), outDir)) continue;
      throw new Error(`build-worker: the trace reached ${source}, outside node_modules and ${outDir}`);
    }
    const target = path.join(modulesOut, path.relative(rootModules, source));
    mkdirSync(path.dirname(target), { recursive: true });
    const stat = lstatSync(source);
    if (stat.isSymbolicLink()) {
      // nft lists a link and what it points to; keep the link as it is.
      symlinkSync(readlinkSync(source), target);
    } else if (stat.isFile()) {
      copyFileSync(source, target);
      count += 1;
      bytes += stat.size;
    }
  }
  const note = leftOut.size ? `; left out, dev-only: ${[...leftOut].map((at) => at?.replace(/^.*node_modules\//, "")).join(", ")}` : "";
  console.log(
    `build-worker: ${count} files (${(bytes / 2 ** 20).toFixed(1)} MiB) traced into ${path.relative(process.cwd(), modulesOut) || modulesOut}${note}`,
  );
}

/** The lockfile's packages that a production install leaves out (dev, or optional only for dev), as paths under the checkout. */
function devOnlyPackages(): Set<string> {
  const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  return new Set(
    Object.entries(lock.packages)
      .filter(([at, entry]) => at !== "" && (entry.dev || entry.devOptional))
      .map(([at]) => path.join(root, at)),
  );
}

/** The directory of the installed package (node_modules/name, node_modules/@scope/name, nested too) that holds a file under the checkout's node_modules. */
function packageOf(file: string): string | undefined {
  if (!isInside(rootModules, file)) return undefined;
  const parts = path.relative(root, file).split(path.sep);
  let end = -1;
  for (let index = 0; index < parts.length - 1; index++) {
    if (parts[index] !== "node_modules") continue;
    end = parts[index + 1].startsWith("@") ? index + 2 : index + 1;
  }
  return end < 0 ? undefined : path.join(root, ...parts.slice(0, end + 1));
}

/** A package name (`sharp`, `@img/sharp-linux-x64/sharp.node`), not a path or a built-in module. */
const isBare = (id: string) => !/^(\.{1,2}(\/|$)|\/|[a-z]+:)/.test(id);

/** Whether `file` is `dir` or inside it. */
function isInside(dir: string, file: string) {
  const relative = path.relative(dir, file);
  return relative === "" || (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = await buildWorker(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`worker bundled: node ${path.relative(process.cwd(), entry)} (and migrate.mjs, webdav.mjs beside it)`);
}
