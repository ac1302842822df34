import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { Database } from "../client";
import type { Upload } from "../schema";
import { readStoredFile } from "./local-store";

export { CHUNK_BYTES, FileTooLargeError, deleteStoredFile, purgeOrphanStoredFiles, writeStoredFile } from "./local-store";

/** Longest an UploadThing download may take (1 GB at 2 MB/s). */
const UPLOADTHING_FETCH_TIMEOUT_MS = 10 * 60_000;

type StoredUpload = Pick<Upload, "storage" | "storageKey" | "storageUrl">;

/**
 * An upload's bytes as a stream, wherever they are stored: the local store, or
 * UploadThing's file URL. Reading stops when `signal` aborts (a worker shutdown, a job's time limit).
 */
export async function* readUploadBytes(db: Database, upload: StoredUpload, signal?: AbortSignal): AsyncGenerator<Buffer, void> {
  if (upload.storage === "local") {
    yield* readStoredFile(db, upload.storageKey, signal);
    return;
  }
  if (!upload.storageUrl) throw new Error("UploadThing file has no URL");
  // The URL came in UploadThing's signed callback. A stalled transfer must not hold the step forever.
  const timeout = AbortSignal.timeout(UPLOADTHING_FETCH_TIMEOUT_MS);
  const response = await fetch(upload.storageUrl, { redirect: "error", signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
  if (!response.ok || !response.body) throw new Error(`UploadThing answered ${response.status} for ${upload.storageKey}`);
  for await (const piece of Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>)) yield piece as Buffer;
}
