import { and, eq, gte, lt, sql } from "drizzle-orm";
import { formatBytes } from "@/lib/format";
import type { Database, Executor } from "../client";
import { storedFileChunks, storedFiles } from "../schema";

/** Bytes per stored chunk: what the web or a worker holds in memory per file at a time. */
export const CHUNK_BYTES = 1 << 20;

export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`File is larger than the ${formatBytes(maxBytes)} limit`);
  }
}


/**
 * Streams bytes into the local store, one 1 MiB chunk per insert, so a slow
 * client holds a connection only while a chunk is written, never for the whole
 * upload. Past maxBytes it stops reading, deletes what it wrote and throws
 * FileTooLargeError. Chunks travel as base64 both ways: postgres.js sends and
 * receives bytea as hex text, which is slower to encode and decode (measured here).
 */
export async function writeStoredFile(
  db: Database,
  source: AsyncIterable<Uint8Array>,
  options: { maxBytes: number },
): Promise<{ key: string; size: number }> {
  const [file] = await db.insert(storedFiles).values({}).returning({ key: storedFiles.key });
  let size = 0;
  let seq = 0;
  try {
    for await (const chunk of rechunk(source, CHUNK_BYTES)) {
      size += chunk.length;
      if (size > options.maxBytes) throw new FileTooLargeError(options.maxBytes);
      await db.insert(storedFileChunks).values({ fileKey: file.key, seq: seq++, data: sql`decode(${chunk.toString("base64")}, 'base64')` });
    }
    await db.update(storedFiles).set({ size }).where(eq(storedFiles.key, file.key));
    return { key: file.key, size };
  } catch (error) {
    await deleteStoredFile(db, file.key).catch(() => {}); // housekeeping purges it otherwise
    throw error;
  }
}

/** Chunks per query when reading: fewer round trips, at most this many MiB in memory (a third more as text). */
const READ_BATCH_CHUNKS = 4;

/** A stored file's bytes, a few chunks per query, so a slow reader holds no connection in between. */
export async function* readStoredFile(db: Database, key: string): AsyncGenerator<Buffer> {
  for (let first = 0; ; first += READ_BATCH_CHUNKS) {
    const rows = await db
      .select({ base64: sql<string>`encode(${storedFileChunks.data}, 'base64')` })
      .from(storedFileChunks)
      .where(and(eq(storedFileChunks.fileKey, key), gte(storedFileChunks.seq, first), lt(storedFileChunks.seq, first + READ_BATCH_CHUNKS)))
      .orderBy(storedFileChunks.seq);
    for (const row of rows) yield Buffer.from(row.base64, "base64");
    if (rows.length < READ_BATCH_CHUNKS) return;
  }
}

/** Deletes a stored file and its chunks (in the caller's transaction, with the row that referenced it). */
export async function deleteStoredFile(executor: Executor, key: string) {
  await executor.delete(storedFiles).where(eq(storedFiles.key, key));
}

/** Stored files no upload references, left by an interrupted upload or a crash before acceptance. */
export async function purgeOrphanStoredFiles(executor: Executor, args: { olderThanHours: number }) {
  const purged = await executor.execute<{ key: string }>(sql`
    delete from stored_files f
    where f.created_at < now() - make_interval(hours => ${args.olderThanHours})
      and not exists (select 1 from uploads u where u.storage = 'local' and u.storage_key = f.key::text)
    returning f.key`);
  return purged.length;
}

/** Re-cuts a byte stream into pieces of exactly `size` bytes (the last one shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buffer = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (pendingBytes + buffer.length >= size) {
      const take = size - pendingBytes;
      pending.push(buffer.subarray(0, take));
      yield Buffer.concat(pending);
      buffer = buffer.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buffer.length > 0) {
      // Copy: the source may reuse its buffer for the next piece.
      pending.push(Buffer.from(buffer));
      pendingBytes += buffer.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
