import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sql } from "drizzle-orm";
import sharp from "sharp";
import { createDatabase } from "@/db/client";
import { acceptUpload } from "@/db/queries/uploads";
import { users } from "@/db/schema";
import { readUploadBytes, writeStoredFile } from "@/db/storage";
import { detectType } from "@/lib/uploads/detect-type";
import { makeThumbnail } from "@/lib/uploads/thumbnail";
import { nodeWithTsx } from "@/scripts/lib/processes";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:uploads`:
 * 1. md5 of a 500 MB file: `md5sum`, our hashing over the same file on disk,
 *    and the checksum step's read from the local store (Postgres) plus hashing.
 * 2. Peak RSS (VmHWM) of a real worker process while it processes a 1 GB upload.
 * 3. Thumbnail of a 24-megapixel JPEG (median of 5).
 * 4. 1,000 small images end to end (stored, accepted, checksum + type +
 *    thumbnail jobs done by one worker), against the same three steps in a
 *    plain loop in one process with no queue and no database.
 */
const MD5_MB = Number(process.env.BENCH_MD5_MB ?? 500);
const RSS_MB = Number(process.env.BENCH_RSS_MB ?? 1024);
const SMALL_IMAGES = Number(process.env.BENCH_IMAGES ?? 1000);
const MB = 1024 * 1024;

const scratch = await mkdtemp(path.join(tmpdir(), "longrun-bench-uploads-"));
const embedded = await startThrowawayPostgres();
const url = await createMigratedDatabase(embedded.url(), "bench");
const db = createDatabase(url, { max: 4, applicationName: "bench" });
const [user] = await db.insert(users).values({ email: "bench@example.test", passwordHash: "x" }).returning();

/** A file of pseudo-random bytes (incompressible, like most uploads), written in 1 MiB blocks. */
async function writeRandomFile(file: string, megabytes: number) {
  let state = createHash("sha256").update("seed").digest();
  const block = () => {
    const out = Buffer.alloc(MB);
    for (let offset = 0; offset < MB; offset += 32) {
      state = createHash("sha256").update(state).digest();
      state.copy(out, offset);
    }
    return out;
  };
  await pipeline(async function* () {
    for (let i = 0; i < megabytes; i++) yield block();
  }, createWriteStream(file));
}

const rate = (bytes: number, ms: number) => bytes / MB / (ms / 1000);

async function benchMd5() {
  const file = path.join(scratch, "md5.bin");
  await writeRandomFile(file, MD5_MB);
  const bytes = MD5_MB * MB;
  spawnSync("md5sum", [file]); // warm the page cache for both readers

  let t0 = performance.now();
  const md5sum = spawnSync("md5sum", [file], { encoding: "utf8" }).stdout.split(" ")[0];
  const md5sumRate = rate(bytes, performance.now() - t0);

  t0 = performance.now();
  const hash = createHash("md5");
  for await (const chunk of createReadStream(file, { highWaterMark: MB })) hash.update(chunk as Buffer);
  const diskRate = rate(bytes, performance.now() - t0);
  if (hash.digest("hex") !== md5sum) throw new Error("md5 differs from md5sum");

  t0 = performance.now();
  const stored = await writeStoredFile(db, createReadStream(file, { highWaterMark: MB }), { maxBytes: bytes });
  const writeRate = rate(bytes, performance.now() - t0);

  t0 = performance.now();
  const storeHash = createHash("md5");
  for await (const chunk of readUploadBytes(db, { storage: "local", storageKey: stored.key, storageUrl: null })) storeHash.update(chunk);
  const storeRate = rate(bytes, performance.now() - t0);
  if (storeHash.digest("hex") !== md5sum) throw new Error("md5 from the store differs from md5sum");
  rmSync(file);

  console.log(`md5 of a ${MD5_MB} MB file`);
  console.log(`  md5sum                                      ${md5sumRate.toFixed(0)} MB/s`);
  console.log(`  our hashing, file on disk (node:crypto)     ${diskRate.toFixed(0)} MB/s  (${(diskRate / md5sumRate).toFixed(2)}x md5sum)`);
  console.log(`  checksum step: read from the store + hash   ${storeRate.toFixed(0)} MB/s  (${(storeRate / md5sumRate).toFixed(2)}x md5sum)`);
  console.log(`  writing into the store (base64 inserts)     ${writeRate.toFixed(0)} MB/s\n`);
}

/** Peak resident memory of a process, from the kernel (Linux). */
const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function waitUntilProcessed(uploadIds: string[]) {
  for (;;) {
    const [row] = await db.execute<{ unfinished: number }>(sql`
      select count(*)::int as unfinished from upload_steps
      where upload_id in (${sql.join(uploadIds.map((id) => sql`${id}::uuid`), sql`, `)}) and status in ('queued', 'running')`);
    const [jobs] = await db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`);
    if (row.unfinished === 0 && jobs.count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A real worker process, as `npm run worker` starts it (its log is not printed). */
function startBenchWorker(concurrency: number) {
  const [command, args] = nodeWithTsx("worker/main.ts", ["--concurrency", String(concurrency)]);
  const child = spawn(command, args, { env: { ...process.env, DATABASE_URL: url }, stdio: "ignore" });
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

async function benchWorkerMemory() {
  const file = path.join(scratch, "big.bin");
  await writeRandomFile(file, RSS_MB);
  const stored = await writeStoredFile(db, createReadStream(file, { highWaterMark: MB }), { maxBytes: RSS_MB * MB });
  rmSync(file);
  const worker = startBenchWorker(4);
  await new Promise((resolve) => setTimeout(resolve, 3000)); // started and idle
  const idle = peakRssMb(worker.pid);
  const t0 = performance.now();
  const upload = await acceptUpload(db, { ownerId: user.id, name: "big.bin", size: stored.size, storage: "local", storageKey: stored.key, declaredType: null });
  await waitUntilProcessed([upload.id]);
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRssMb(worker.pid);
  await worker.stop();
  console.log(`worker processing a ${RSS_MB} MB upload (checksum + type)`);
  console.log(`  peak RSS ${peak.toFixed(0)} MB (idle worker peak ${idle.toFixed(0)} MB), done in ${seconds.toFixed(1)} s\n`);
}

async function benchThumbnail() {
  // Noise compresses badly, like a real photo: a 24-megapixel JPEG of about 10 MB.
  const jpeg = await sharp({ create: { width: 6000, height: 4000, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } } })
    .jpeg({ quality: 90 })
    .toBuffer();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await makeThumbnail(jpeg);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`thumbnail of a 6000x4000 JPEG (${(jpeg.length / MB).toFixed(1)} MB): median ${times[2].toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times[4].toFixed(0)})\n`);
}

async function benchSmallImages() {
  const images = await Promise.all(
    Array.from({ length: SMALL_IMAGES }, (_, i) =>
      sharp({ create: { width: 320, height: 240, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 } } }).png().toBuffer(),
    ),
  );

  let t0 = performance.now();
  for (const image of images) {
    createHash("md5").update(image).digest("hex");
    await detectType(image, image.length);
    await makeThumbnail(image);
  }
  const inProcess = SMALL_IMAGES / ((performance.now() - t0) / 1000);

  const worker = startBenchWorker(4);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  t0 = performance.now();
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; i < images.length; i += 8) {
        const stored = await writeStoredFile(db, Readable.from([images[i]]), { maxBytes: MB });
        const upload = await acceptUpload(db, { ownerId: user.id, name: `image-${i}.png`, size: stored.size, storage: "local", storageKey: stored.key, declaredType: "image/png" });
        ids.push(upload.id);
      }
    }),
  );
  await waitUntilProcessed(ids);
  const endToEnd = SMALL_IMAGES / ((performance.now() - t0) / 1000);
  await worker.stop();
  const [thumbnails] = await db.execute<{ count: number }>(sql`select count(*)::int as count from upload_steps where step = 'thumbnail' and status = 'succeeded'`);
  if (thumbnails.count !== SMALL_IMAGES) throw new Error(`expected ${SMALL_IMAGES} thumbnails, found ${thumbnails.count}`);
  console.log(`${SMALL_IMAGES} small PNGs (320x240): md5 + type + thumbnail`);
  console.log(`  end to end (store, accept, 3 jobs each, one worker, concurrency 4)  ${endToEnd.toFixed(0)} files/s`);
  console.log(`  same steps in a plain loop, no queue or database                   ${inProcess.toFixed(0)} files/s  (end to end ${(endToEnd / inProcess).toFixed(2)}x)`);
}

try {
  await benchMd5();
  await benchWorkerMemory();
  await benchThumbnail();
  await benchSmallImages();
} finally {
  await db.$client.end();
  await embedded.stop();
  rmSync(scratch, { recursive: true, force: true });
}
