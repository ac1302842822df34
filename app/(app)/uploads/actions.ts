"use server";

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { db } from "@/db";
import { StorageQuotaError } from "@/db/queries/storage-usage";
import { getUploadDownload, removeUpload, reprocessUpload as reprocessUploadSteps, storeUpload } from "@/db/queries/uploads";
import { addWatchedSource, removeWatchedSource, WATCHED_SOURCES_PER_PERSON } from "@/db/queries/watched-sources";
import { FileTooLargeError, readUploadBytes } from "@/db/storage";
import { datasetPath, findDataset } from "@/lib/datasets";
import { getWebEnv } from "@/lib/env";
import { uploadIdSchema } from "@/lib/validation/upload";
import { watchedSourceIdSchema, watchSourceInputSchema } from "@/lib/validation/watched-source";
import { defineAction, type ActionState } from "@/server/actions";

const NO_SUCH_FILE = "This file does not exist";
const NO_SUCH_DATASET = "No such dataset";
const NO_SUCH_SOURCE = "This watched URL does not exist";

/** Runs checksum, type detection and (for images) the thumbnail again. */
export const reprocessUpload = defineAction(
  { role: "user", args: z.tuple([uploadIdSchema]), refusal: NO_SUCH_FILE },
  async ({ args: [uploadId] }, user) =>
    (await reprocessUploadSteps(db, { id: uploadId, ownerId: user.id })) ? {} : { formError: NO_SUCH_FILE },
);

/** Deletes the file, its bytes and its steps, then goes back to the list. */
export const deleteUpload = defineAction(
  { role: "user", args: z.tuple([uploadIdSchema]), refusal: NO_SUCH_FILE },
  async ({ args: [uploadId] }, user) => {
    if (!(await removeUpload(db, { id: uploadId, ownerId: user.id }))) return { formError: NO_SUCH_FILE };
    redirect("/uploads");
  },
);

/** Copies a sample dataset into the person's own files and processes it like an upload. */
export const importDataset = defineAction(
  { role: "user", args: z.tuple([z.string()]), refusal: NO_SUCH_DATASET },
  async ({ args: [datasetId] }, user) => {
    const dataset = findDataset(datasetId);
    if (!dataset) return { formError: NO_SUCH_DATASET };
    const file = datasetPath(dataset);
    return copyIntoFiles(
      createReadStream(file),
      { ownerId: user.id, name: dataset.file, declaredType: dataset.type, dataset: dataset.id },
      (await stat(file)).size,
    );
  },
);

/** Copies a shared file (a version of an admin's source for everyone) into the person's files, processed like an upload. */
export const copySharedFile = defineAction(
  { role: "user", args: z.tuple([uploadIdSchema]), refusal: NO_SUCH_FILE },
  async ({ args: [uploadId] }, user) => {
    const shared = await getUploadDownload(db, { id: uploadId, ownerId: user.id });
    if (!shared?.isShared) return { formError: NO_SUCH_FILE };
    return copyIntoFiles(
      readUploadBytes(db, shared),
      { ownerId: user.id, name: shared.name, declaredType: shared.detectedType },
      shared.size,
    );
  },
);

/** Stores bytes as one of the person's files (processed like an upload), or says why not (too large, or past their storage quota). */
async function copyIntoFiles(
  bytes: AsyncIterable<Uint8Array>,
  upload: Parameters<typeof storeUpload>[2],
  size: number,
): Promise<ActionState<never, { uploadId: string }>> {
  try {
    const stored = await storeUpload(db, bytes, upload, { maxBytes: getWebEnv().UPLOAD_MAX_BYTES, declaredBytes: size });
    return { data: { uploadId: stored.id } };
  } catch (error) {
    if (error instanceof FileTooLargeError || error instanceof StorageQuotaError) return { formError: error.message };
    throw error;
  }
}

/** Starts watching a URL: the worker fetches it within a minute, then every interval. */
export const watchSource = defineAction({ role: "user", form: watchSourceInputSchema }, async ({ form }, user) => {
  if (form.isShared && user.role !== "admin") return { formError: "Only admins can watch a URL for everyone" };
  const added = await addWatchedSource(db, { ownerId: user.id, ...form });
  if (!added.ok && added.code === "duplicate") return { fieldErrors: { url: ["You already watch this URL"] } };
  if (!added.ok) return { formError: `You can watch up to ${WATCHED_SOURCES_PER_PERSON} URLs; stop watching one first` };
  revalidatePath("/uploads");
  return { values: {} }; // watched: the form starts empty again
});

/** Stops watching a URL; its stored versions stay in the person's files. */
export const unwatchSource = defineAction(
  { role: "user", args: z.tuple([watchedSourceIdSchema]), refusal: NO_SUCH_SOURCE },
  async ({ args: [sourceId] }, user) => {
    if (!(await removeWatchedSource(db, { id: sourceId, ownerId: user.id }))) return { formError: NO_SUCH_SOURCE };
    revalidatePath("/uploads");
    return {};
  },
);
