import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createCipheriv, createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, rmSync } from "node:fs";
import { mkdtemp, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { and, eq, gte, lt, sql } from "drizzle-orm";
import sharp from "sharp";
import { createDatabase } from "@/db/client";
import { acceptUpload, reprocessUpload } from "@/db/queries/uploads";
import { storedFileChunks, users } from "@/db/schema";
import { readUploadBytes, writeStoredFile } from "@/db/storage";
import { md5InThread } from "@/lib/uploads/md5";
import { detectType } from "@/lib/uploads/detect-type";
import { makeThumbnail } from "@/lib/uploads/thumbnail";
import { nodeWithTsx } from "@/scripts/lib/processes";
import { bundledWorker, isSmoke } from "@/scripts/lib/smoke";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:uploads`:
 * 1. md5 of a 500 MB file: `md5sum`, our hashing (node:crypto) over the same
 *    file on disk, and the checksum step's read from the local store (Postgres)
 *    with hashing on a thread of its own, with the readers and the hashing on
 *    one thread we did not keep alongside. Page cache warm,
 *    five interleaved rounds, best and median; then cold (the file dropped from
 *    the page cache before each read) for md5sum and our disk reader.
 * 2. Peak RSS (VmHWM) of a real worker process while it processes a 1 GB
 *    upload, run under tsx as `npm run worker` does and bundled ahead of time
 *    as `npm run build:worker` makes it.
 * 3. Thumbnail of a 24-megapixel JPEG (median of 5).
 * 4. 1,000 small images end to end (stored, accepted, checksum + type +
 *    thumbnail jobs done by one worker), against the same three steps in a
 *    plain loop in one process with no queue and no database.
 * BENCH_ONLY=md5,rss,thumbnail,small runs some of them; --smoke runs all four
 * with a few megabytes, a small JPEG and ten images, once each.
 */
const MD5_MB = Number(process.env.BENCH_MD5_MB ?? (isSmoke ? 8 : 500));
const RSS_MB = Number(process.env.BENCH_RSS_MB ?? (isSmoke ? 8 : 1024));
const SMALL_IMAGES = Number(process.env.BENCH_IMAGES ?? (isSmoke ? 10 : 1000));
const THUMBNAIL_SIZE = isSmoke ? { width: 600, height: 400 } : { width: 6000, height: 4000 };
const MB = 1024 * 1024;
const ONLY = process.env.BENCH_ONLY?.split(",");
// Other work on a shared machine only ever slows a reader down: the best of a few interleaved rounds is the closest to its own speed.
const ROUNDS = isSmoke ? 1 : 5;

const scratch = await mkdtemp(path.join(tmpdir(), "longrun-bench-uploads-"));
const embedded = await startThrowawayPostgres();
const url = await createMigratedDatabase(embedded.url(), "bench");
const db = createDatabase(url, { max: 4, applicationName: "bench" });
// Pro: the 1 GB upload and the 1,000 images together pass a free account's storage quota.
const [user] = await db.insert(users).values({ email: "bench@example.test", passwordHash: "x", tier: "pro" }).returning();

/** A file of pseudo-random bytes (incompressible, like most uploads; AES-CTR of zeros, the same every run), written in 1 MiB blocks. */
async function writeRandomFile(file: string, megabytes: number) {
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16));
  const zeros = Buffer.alloc(MB);
  await pipeline(async function* () {
    for (let i = 0; i < megabytes; i++) yield cipher.update(zeros);
  }, createWriteStream(file));
}

const rate = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const best = (values: number[]) => Math.max(...values);
const ratio = (value: number, reference: number) => `${(value / reference).toFixed(2)}x md5sum`;

async function md5Of(source: AsyncIterable<Uint8Array>) {
  const hash = createHash("md5");
  for await (const chunk of source) hash.update(chunk);
  return hash.digest("hex");
}

/** How many bytes a source gives, as a string (no hashing: the reader's own speed). */
async function countBytes(source: AsyncIterable<Uint8Array>) {
  let count = 0;
  for await (const chunk of source) count += chunk.length;
  return String(count);
}

/**
 * A file's bytes through two reused 4 MiB buffers: the next read runs on libuv's
 * thread pool while the caller hashes the current piece, which is valid only
 * until the caller asks for the next one (then its buffer is read into again).
 */
async function* readFileDoubleBuffered(file: string, size = 4 * MB) {
  const handle = await open(file);
  try {
    const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    let turn = 0;
    let pending = handle.read(buffers[turn], 0, size, null);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) return;
      turn ^= 1;
      pending = handle.read(buffers[turn], 0, size, null);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** The store's reader before binary COPY (base64 text, 4 chunks per query), kept here only to compare. */
async function* readStoredFileAsBase64(key: string) {
  for (let first = 0; ; first += 4) {
    const rows = await db
      .select({ base64: sql<string>`encode(${storedFileChunks.data}, 'base64')` })
      .from(storedFileChunks)
      .where(and(eq(storedFileChunks.fileKey, key), gte(storedFileChunks.seq, first), lt(storedFileChunks.seq, first + 4)))
      .orderBy(storedFileChunks.seq);
    for (const row of rows) yield Buffer.from(row.base64, "base64");
    if (rows.length < 4) return;
  }
}

/** Drops one file from the page cache (posix_fadvise DONTNEED through GNU dd; no root needed). */
const evictFromPageCache = (file: string) => spawnSync("dd", [`if=${file}`, "iflag=nocache", "count=0", "status=none"]);

async function benchMd5() {
  const file = path.join(scratch, "md5.bin");
  await writeRandomFile(file, MD5_MB);
  spawnSync("sync"); // no writeback of the fresh file during the timings
  const bytes = MD5_MB * MB;
  const stored = await timed(() => writeStoredFile(db, createReadStream(file, { highWaterMark: MB }), { maxBytes: bytes }));
  const writeRate = rate(bytes, stored.ms);
  const fromStore = () => readUploadBytes(db, { storage: "local", storageKey: stored.value.key, storageUrl: null });

  const expected = spawnSync("md5sum", [file], { encoding: "utf8" }).stdout.split(" ")[0];
  const readers: [string, () => Promise<string>][] = [
    ["md5sum", async () => spawnSync("md5sum", [file], { encoding: "utf8" }).stdout.split(" ")[0]],
    ["disk: reused 4 MiB buffers, read ahead", () => md5Of(readFileDoubleBuffered(file))],
    ["disk: createReadStream, 1 MiB chunks", () => md5Of(createReadStream(file, { highWaterMark: MB }))],
    ["disk: createReadStream, default 64 KiB", () => md5Of(createReadStream(file))],
    ["store: checksum step (binary COPY, md5 thread)", async () => (await md5InThread(fromStore())).md5],
    ["store: binary COPY, md5 on the reading thread", () => md5Of(fromStore())],
    ["store: base64 queries (previous reader)", () => md5Of(readStoredFileAsBase64(stored.value.key))],
    ["store: binary COPY, read without hashing", () => countBytes(fromStore())],
  ];
  const warm = new Map<string, number[]>(readers.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of readers) {
      const { value, ms } = await timed(run);
      // Every reader gives the md5, except the one that only counts bytes.
      if (value !== expected && value !== String(bytes)) throw new Error(`${name}: md5 ${value}, md5sum says ${expected}`);
      warm.get(name)!.push(rate(bytes, ms));
    }
  }
  const coldReaders = readers.slice(0, 2);
  const cold = new Map<string, number[]>(coldReaders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of coldReaders) {
      evictFromPageCache(file);
      cold.get(name)!.push(rate(bytes, (await timed(run)).ms));
    }
  }
  rmSync(file);

  const md5sumBest = best(warm.get("md5sum")!);
  const md5sumMedian = median(warm.get("md5sum")!);
  console.log(`md5 of a ${MD5_MB} MB file, page cache warm: best of ${ROUNDS} interleaved rounds (median in brackets)`);
  for (const [name, rates] of warm) {
    const figures = `${best(rates).toFixed(0).padStart(4)} MB/s (${median(rates).toFixed(0)})`;
    console.log(
      `  ${name.padEnd(46)} ${figures.padEnd(16)}${name === "md5sum" ? "" : `  ${ratio(best(rates), md5sumBest)} (${ratio(median(rates), md5sumMedian)})`}`,
    );
  }
  const [coldMd5sum, coldOurs] = coldReaders.map(([name]) => cold.get(name)!);
  console.log(
    `  cold (dropped from the page cache before each read): md5sum ${best(coldMd5sum).toFixed(0)} MB/s (${median(coldMd5sum).toFixed(0)}), ` +
      `${coldReaders[1][0]} ${best(coldOurs).toFixed(0)} MB/s (${median(coldOurs).toFixed(0)}), ${ratio(best(coldOurs), best(coldMd5sum))}`,
  );
  console.log(`  writing into the store (1 MiB base64 inserts)  ${writeRate.toFixed(0)} MB/s\n`);
}

async function timed<T>(run: () => Promise<T>) {
  const t0 = performance.now();
  const value = await run();
  return { value, ms: performance.now() - t0 };
}

/** Peak resident memory of a process, from the kernel (Linux). */
const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function waitUntilProcessed(uploadIds: string[]) {
  for (;;) {
    const [row] = await db.execute<{ unfinished: number }>(sql`
      select count(*)::int as unfinished from upload_steps
      where upload_id in (${sql.join(
        uploadIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )}) and status in ('queued', 'running')`);
    const [jobs] = await db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`);
    if (row.unfinished === 0 && jobs.count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type WorkerBuild = "tsx" | "bundled";

/**
 * A real worker process: under tsx as `npm run worker` starts it, or the bundle
 * `npm run build:worker` makes, under plain node. Resolves once it says it is running.
 */
async function startBenchWorker(concurrency: number, build: WorkerBuild = "tsx") {
  const workerArgs = ["--concurrency", String(concurrency)];
  const [command, args] =
    build === "tsx" ? nodeWithTsx("worker/main.ts", workerArgs) : [process.execPath, [await workerBundle(), ...workerArgs]];
  const child = spawn(command, args, { env: { ...process.env, DATABASE_URL: url }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stderr.on("data", (piece: Buffer) => (errors += piece.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (piece: Buffer) => {
      output += piece.toString();
      if (/running \w+ tasks/.test(output)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`${build} worker exited with ${code} before it ran:\n${errors}`)));
  });
  child.stdout.removeAllListeners("data").resume(); // its log is not printed
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

let bundle: Promise<string> | undefined;
// Inside the project (bench/.out is ignored by git), so the bundle's packages resolve from node_modules.
const workerBundle = () => (bundle ??= bundledWorker(path.resolve("bench/.out/worker")));

async function benchWorkerMemory() {
  const file = path.join(scratch, "big.bin");
  await writeRandomFile(file, RSS_MB);
  const stored = await writeStoredFile(db, createReadStream(file, { highWaterMark: MB }), { maxBytes: RSS_MB * MB });
  rmSync(file);
  const upload = {
    ownerId: user.id,
    name: "big.bin",
    size: stored.size,
    storage: "local" as const,
    storageKey: stored.key,
    declaredType: null,
  };
  console.log(`worker processing a ${RSS_MB} MB upload (checksum + type), concurrency 4`);
  for (const build of ["tsx", "bundled"] as const) {
    const worker = await startBenchWorker(4, build);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // idle: heartbeat and cron ticks done
    const idle = peakRssMb(worker.pid);
    const t0 = performance.now();
    // The same stored file for both runs: accepted once, then processed again.
    const { id } = await acceptUpload(db, upload);
    if (build !== "tsx") await reprocessUpload(db, { id, ownerId: user.id });
    await waitUntilProcessed([id]);
    const seconds = (performance.now() - t0) / 1000;
    const peak = peakRssMb(worker.pid);
    await worker.stop();
    const label = build === "tsx" ? "under tsx (npm run worker)" : "bundled (npm run build:worker)";
    console.log(
      `  ${label.padEnd(32)} peak RSS ${peak.toFixed(0)} MB, of which ${(peak - idle).toFixed(0)} MB during the upload (idle peak ${idle.toFixed(0)} MB); ${seconds.toFixed(1)} s`,
    );
  }
  console.log();
}

async function benchThumbnail() {
  // Noise compresses badly, like a real photo: a 24-megapixel JPEG of about 10 MB.
  const { width, height } = THUMBNAIL_SIZE;
  const jpeg = await sharp({
    create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await makeThumbnail(jpeg, "image/jpeg");
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `thumbnail of a ${width}x${height} JPEG (${(jpeg.length / MB).toFixed(1)} MB): median ${median(times).toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times.at(-1)!.toFixed(0)})\n`,
  );
}

async function benchSmallImages() {
  const images = await Promise.all(
    Array.from({ length: SMALL_IMAGES }, (_, i) =>
      sharp({ create: { width: 320, height: 240, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 } } })
        .png()
        .toBuffer(),
    ),
  );

  let t0 = performance.now();
  for (const image of images) {
    createHash("md5").update(image).digest("hex");
    await makeThumbnail(image, await detectType(image, image.length));
  }
  const inProcess = SMALL_IMAGES / ((performance.now() - t0) / 1000);

  const worker = await startBenchWorker(4);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  t0 = performance.now();
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; i < images.length; i += 8) {
        const stored = await writeStoredFile(db, Readable.from([images[i]]), { maxBytes: MB });
        const upload = await acceptUpload(db, {
          ownerId: user.id,
          name: `image-${i}.png`,
          size: stored.size,
          storage: "local",
          storageKey: stored.key,
          declaredType: "image/png",
        });
        ids.push(upload.id);
      }
    }),
  );
  await waitUntilProcessed(ids);
  const endToEnd = SMALL_IMAGES / ((performance.now() - t0) / 1000);
  await worker.stop();
  const [thumbnails] = await db.execute<{ count: number }>(
    sql`select count(*)::int as count from upload_steps where step = 'thumbnail' and status = 'succeeded'`,
  );
  if (thumbnails.count !== SMALL_IMAGES) throw new Error(`expected ${SMALL_IMAGES} thumbnails, found ${thumbnails.count}`);
  console.log(`${SMALL_IMAGES} small PNGs (320x240): md5 + type + thumbnail`);
  console.log(`  end to end (store, accept, 3 jobs each, one worker, concurrency 4)  ${endToEnd.toFixed(0)} files/s`);
  console.log(
    `  same steps in a plain loop, no queue or database                   ${inProcess.toFixed(0)} files/s  (end to end ${(endToEnd / inProcess).toFixed(2)}x)`,
  );
}

try {
  if (!ONLY || ONLY.includes("md5")) await benchMd5();
  if (!ONLY || ONLY.includes("rss")) await benchWorkerMemory();
  if (!ONLY || ONLY.includes("thumbnail")) await benchThumbnail();
  if (!ONLY || ONLY.includes("small")) await benchSmallImages();
} finally {
  await db.$client.end();
  await embedded.stop();
  rmSync(scratch, { recursive: true, force: true });
}
