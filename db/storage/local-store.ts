import { eq, sql } from "drizzle-orm";
import type { Sql } from "postgres";
import { formatBytes } from "@/lib/format";
import type { Database, Executor } from "../client";
import { storedFileChunks, storedFiles } from "../schema";

/** Bytes per stored chunk: one insert when writing; reads take a few at a time (READ_BATCH_CHUNKS). */
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
 * FileTooLargeError. Chunks go in as base64: postgres.js sends bytea as hex
 * text, which is slower to encode (measured here). They come out through
 * binary COPY (readStoredFile).
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

/** Chunks per read: a reader holds this batch and, while it consumes it, prefetches the next. */
const READ_BATCH_CHUNKS = 4;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A stored file's bytes, streamed in batches of a few chunks with at most two
 * batches in memory. Each batch is one binary COPY read in full, so a slow
 * reader (a download) holds no connection in between. While the caller
 * consumes a batch, the next one is already on its way: Postgres reads it on
 * one core while we hash on the other.
 *
 * Binary COPY because postgres.js receives bytea only as text (hex, or base64
 * with encode()), and decoding that cost more than the md5 itself: the checksum
 * step read about 3x faster once it stopped (bench/uploads.ts compares both).
 * Through postgres.js, the one client web and workers share, rather than a
 * second driver (pg with pg-copy-streams) and its pool in the web for this query.
 * Stops between batches once `signal` aborts.
 */
export async function* readStoredFile(db: Database, key: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (!UUID.test(key)) throw new Error(`Not a stored file key: ${key}`); // COPY takes no parameters
  const fetchBatch = (first: number) => {
    const batch = readChunkBatch(db.$client, key, first);
    batch.catch(() => {}); // awaited later, or never if the caller stops early: not an unhandled rejection
    return batch;
  };
  let next: Promise<Buffer[]> | undefined = fetchBatch(0);
  for (let first = 0; next; first += READ_BATCH_CHUNKS) {
    signal?.throwIfAborted();
    const chunks: Buffer[] = await next;
    next = undefined;
    for (const [index, chunk] of chunks.entries()) {
      yield chunk;
      // Prefetch once the caller comes back for more, so a reader of the head only (type detection) costs one batch.
      if (index === 0 && chunks.length === READ_BATCH_CHUNKS) next = fetchBatch(first + READ_BATCH_CHUNKS);
    }
  }
}

/** Chunks [first, first + READ_BATCH_CHUNKS) of a stored file, through one binary COPY read in full. */
async function readChunkBatch(sql: Sql, key: string, first: number): Promise<Buffer[]> {
  const stream = await sql
    .unsafe(
      `copy (select data from stored_file_chunks where file_key = '${key}' and seq >= ${first} and seq < ${first + READ_BATCH_CHUNKS} order by seq) to stdout (format binary)`,
    )
    .readable();
  const parser = new CopyBinaryParser();
  const chunks: Buffer[] = [];
  try {
    for await (const piece of stream) chunks.push(...parser.push(piece as Buffer));
  } finally {
    // postgres.js 3.4.9 pauses the connection's socket when a COPY chunk fills the stream's
    // buffer, and resumes it only from the stream's read(); if the COPY ends in that state, the
    // next query on the connection hangs (porsager/postgres#499, fix proposed in #1016).
    // read() after the end is that resume and nothing else; jobs/uploads.integration.test.ts covers it.
    (stream as unknown as { _read(size: number): void })._read(0);
  }
  if (!parser.isDone) throw new Error(`Stored file ${key}: COPY ended before its trailer`);
  return chunks;
}

const COPY_SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * Postgres's binary COPY format for rows of one bytea column: a header, then
 * per row a field count (1), a length and the bytes, then a -1 trailer.
 * postgres.js hands over one CopyData message per row, which the parser
 * slices without copying; pieces cut anywhere else are joined first.
 */
export class CopyBinaryParser {
  private pending: Buffer = Buffer.alloc(0);
  private hasHeader = false;
  isDone = false;

  push(piece: Buffer): Buffer[] {
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, piece]) : piece;
    const rows: Buffer[] = [];
    if (!this.hasHeader) {
      if (buffer.length < 19) return this.keep(buffer, rows);
      if (!buffer.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error("Not a binary COPY stream");
      const headerLength = 19 + buffer.readUInt32BE(15);
      if (buffer.length < headerLength) return this.keep(buffer, rows);
      buffer = buffer.subarray(headerLength);
      this.hasHeader = true;
    }
    while (!this.isDone && buffer.length >= 2) {
      const fields = buffer.readInt16BE(0);
      if (fields === -1) {
        this.isDone = true;
        buffer = buffer.subarray(2);
        break;
      }
      if (fields !== 1) throw new Error(`Binary COPY row with ${fields} fields, expected 1`);
      if (buffer.length < 6) break;
      const length = buffer.readInt32BE(2);
      if (length < 0) throw new Error("Binary COPY row with a NULL chunk");
      if (buffer.length < 6 + length) break;
      rows.push(buffer.subarray(6, 6 + length));
      buffer = buffer.subarray(6 + length);
    }
    return this.keep(buffer, rows);
  }

  private keep(rest: Buffer, rows: Buffer[]) {
    // Copy a remainder: it may be a small view that would pin a large buffer.
    this.pending = rest.length > 0 ? Buffer.from(rest) : Buffer.alloc(0);
    return rows;
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
