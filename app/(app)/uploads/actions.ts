"use server";

import { createReadStream } from "node:fs";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { db } from "@/db";
import { getUploadDownload, removeUpload, reprocessUpload, storeUpload } from "@/db/queries/uploads";
import { addWatchedSource, removeWatchedSource, WATCHED_SOURCES_PER_PERSON } from "@/db/queries/watched-sources";
import { FileTooLargeError, readUploadBytes } from "@/db/storage";
import { watchedSourceIdSchema, watchSourceInputSchema, type WatchSourceField } from "@/lib/validation/watched-source";
import { isAdmin, withActionUser } from "@/server/auth/guards";
import { datasetPath, findDataset } from "@/lib/datasets";
import { getWebEnv } from "@/lib/env";
import { formValues } from "@/lib/validation/form-data";
import { uploadIdSchema } from "@/lib/validation/upload";

export type UploadActionResult = { ok: true; uploadId?: string } | { ok: false; error: string };

const NO_SUCH_FILE: UploadActionResult = { ok: false, error: "This file does not exist" };

/** Runs checksum, type detection and (for images) the thumbnail again. */
export const reprocessUploadAction = withActionUser(async (user, uploadId: string): Promise<UploadActionResult> => {
  if (!uploadIdSchema.safeParse(uploadId).success) return NO_SUCH_FILE;
  return (await reprocessUpload(db, { id: uploadId, ownerId: user.id })) ? { ok: true } : NO_SUCH_FILE;
});

/** Deletes the file, its bytes and its steps, then goes back to the list. */
export const deleteUploadAction = withActionUser(async (user, uploadId: string): Promise<UploadActionResult> => {
  if (!uploadIdSchema.safeParse(uploadId).success) return NO_SUCH_FILE;
  if (!(await removeUpload(db, { id: uploadId, ownerId: user.id }))) return NO_SUCH_FILE;
  redirect("/uploads");
});

/** Copies a sample dataset into the person's own files and processes it like an upload. */
export const importDatasetAction = withActionUser(async (user, datasetId: string): Promise<UploadActionResult> => {
  const dataset = findDataset(datasetId);
  if (!dataset) return { ok: false, error: "No such dataset" };
  return copyIntoFiles("dataset", createReadStream(datasetPath(dataset)), {
    ownerId: user.id,
    name: dataset.file,
    declaredType: dataset.type,
    dataset: dataset.id,
  });
});

/** Copies a shared file (a version of an admin's source for everyone) into the person's files, processed like an upload. */
export const copySharedFileAction = withActionUser(async (user, uploadId: string): Promise<UploadActionResult> => {
  if (!uploadIdSchema.safeParse(uploadId).success) return NO_SUCH_FILE;
  const shared = await getUploadDownload(db, { id: uploadId, ownerId: user.id });
  if (!shared?.isShared) return NO_SUCH_FILE;
  return copyIntoFiles("file", readUploadBytes(db, shared), { ownerId: user.id, name: shared.name, declaredType: shared.detectedType });
});

/** Stores bytes as one of the person's files (processed like an upload), or says why not. */
async function copyIntoFiles(what: string, bytes: AsyncIterable<Uint8Array>, upload: Parameters<typeof storeUpload>[2]): Promise<UploadActionResult> {
  try {
    const stored = await storeUpload(db, bytes, upload, { maxBytes: getWebEnv().UPLOAD_MAX_BYTES });
    return { ok: true, uploadId: stored.id };
  } catch (error) {
    if (error instanceof FileTooLargeError) return { ok: false, error: error.message };
    console.error(`copying a ${what} failed`, error);
    return { ok: false, error: `Could not copy the ${what} right now; try again` };
  }
}

export type WatchSourceState = {
  fieldErrors?: Partial<Record<WatchSourceField, string[]>>;
  formError?: string;
  /** What the person typed, so a rejected form keeps their input. */
  values?: Record<string, string>;
  /** Changes on every submission (the form remounts with `values`). */
  submission?: number;
};

/** Starts watching a URL: the worker fetches it within a minute, then every interval. */
export const watchSourceAction = withActionUser(async (user, _previous: WatchSourceState, formData: FormData): Promise<WatchSourceState> => {
  const values = formValues(formData);
  const submission = Date.now();
  const parsed = watchSourceInputSchema.safeParse(values);
  if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors, values, submission };
  if (parsed.data.isShared && !(await isAdmin(user.id))) return { formError: "Only admins can watch a URL for everyone", values, submission };
  const added = await addWatchedSource(db, { ownerId: user.id, ...parsed.data });
  if (!added.ok && added.code === "duplicate") return { fieldErrors: { url: ["You already watch this URL"] }, values, submission };
  if (!added.ok) return { formError: `You can watch up to ${WATCHED_SOURCES_PER_PERSON} URLs; stop watching one first`, values, submission };
  revalidatePath("/uploads");
  return { submission };
});

/** Stops watching a URL; its stored versions stay in the person's files. */
export const unwatchSourceAction = withActionUser(async (user, sourceId: string): Promise<UploadActionResult> => {
  const noSuchSource: UploadActionResult = { ok: false, error: "This watched URL does not exist" };
  if (!watchedSourceIdSchema.safeParse(sourceId).success) return noSuchSource;
  if (!(await removeWatchedSource(db, { id: sourceId, ownerId: user.id }))) return noSuchSource;
  revalidatePath("/uploads");
  return { ok: true };
});
