import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { RenderParams } from "@/lib/validation/configuration";
import type { Database, Executor } from "../client";
import { blobs, configurations, results, uploads, webdavEntries, webdavProperties } from "../schema";
import { FileTooLargeError } from "../storage";
import { deleteUploadThingFile } from "../storage/uploadthing";
import { acceptUpload, deleteUpload, storeThenAccept } from "./uploads";

/**
 * Queries behind the WebDAV server (webdav/). Paths are relative to the
 * person's /uploads folder, without leading or trailing slash ("" is /uploads
 * itself); the server has already refused empty, "." and ".." segments.
 * Every query is scoped by owner, and every change to a person's tree runs
 * under one advisory lock per person, so concurrent MOVEs, PUTs and DELETEs
 * of one person take turns (nobody else waits).
 */

export type WebdavFolderEntry = { kind: "folder"; id: string; path: string; createdAt: Date; modifiedAt: Date };
export type WebdavFileEntry = {
  kind: "file";
  id: string;
  path: string;
  createdAt: Date;
  modifiedAt: Date;
  uploadId: string;
  size: number;
  /** What the bytes are (once the type step ran), else what the client claimed. */
  contentType: string | null;
  storage: "local" | "uploadthing";
  storageKey: string;
  storageUrl: string | null;
};
export type WebdavEntryView = WebdavFolderEntry | WebdavFileEntry;

/**
 * A request's precondition on the entry it changes (webdav/workarounds/webdav-server-preconditions.ts), given
 * what is at the path now (null: nothing). Checked under the person's tree lock, in the transaction that makes
 * the change, so the entry cannot change between check and write; false refuses the change.
 */
export type EntryPrecondition = (entry: WebdavEntryView | null) => boolean;

const entryColumns = {
  id: webdavEntries.id,
  path: webdavEntries.path,
  kind: webdavEntries.kind,
  createdAt: webdavEntries.createdAt,
  modifiedAt: webdavEntries.modifiedAt,
  uploadId: uploads.id,
  size: uploads.size,
  detectedType: uploads.detectedType,
  declaredType: uploads.declaredType,
  storage: uploads.storage,
  storageKey: uploads.storageKey,
  storageUrl: uploads.storageUrl,
};

type EntryRow = {
  id: string;
  path: string;
  kind: "folder" | "file";
  createdAt: Date;
  modifiedAt: Date;
  uploadId: string | null;
  size: number | null;
  detectedType: string | null;
  declaredType: string | null;
  storage: "local" | "uploadthing" | null;
  storageKey: string | null;
  storageUrl: string | null;
};

function toView(row: EntryRow): WebdavEntryView {
  if (row.kind === "folder" || !row.uploadId) {
    return { kind: "folder", id: row.id, path: row.path, createdAt: row.createdAt, modifiedAt: row.modifiedAt };
  }
  return {
    kind: "file",
    id: row.id,
    path: row.path,
    createdAt: row.createdAt,
    modifiedAt: row.modifiedAt,
    uploadId: row.uploadId,
    size: row.size ?? 0,
    contentType: row.detectedType ?? row.declaredType,
    storage: row.storage ?? "local",
    storageKey: row.storageKey ?? "",
    storageUrl: row.storageUrl,
  };
}

const selectEntries = (executor: Executor) =>
  executor.select(entryColumns).from(webdavEntries).leftJoin(uploads, eq(uploads.id, webdavEntries.uploadId));

/** The entry at a path, or null. */
export async function getWebdavEntry(executor: Executor, args: { ownerId: string; path: string }) {
  const [row] = await selectEntries(executor).where(and(eq(webdavEntries.ownerId, args.ownerId), eq(webdavEntries.path, args.path)));
  return row ? toView(row) : null;
}

/** The entries directly inside a folder ("" for /uploads), by path. */
export async function listWebdavChildren(executor: Executor, args: { ownerId: string; path: string }) {
  const rows = await selectEntries(executor)
    .where(and(eq(webdavEntries.ownerId, args.ownerId), isChildOf(args.path)))
    .orderBy(asc(webdavEntries.path));
  return rows.map(toView);
}

/** The entry at a path and everything under it, parents before children. */
export async function listWebdavSubtree(executor: Executor, args: { ownerId: string; path: string }) {
  const rows = await selectEntries(executor)
    .where(and(eq(webdavEntries.ownerId, args.ownerId), isAtOrUnder(args.path)))
    .orderBy(sql`length(${webdavEntries.path})`, asc(webdavEntries.path));
  return rows.map(toView);
}

// Prefix tests with left() rather than LIKE: paths may contain % and _.
const isAtOrUnder = (path: string) =>
  sql`(${webdavEntries.path} = ${path} or left(${webdavEntries.path}, ${path.length + 1}) = ${path + "/"})`;
const isChildOf = (path: string) =>
  path === ""
    ? sql`strpos(${webdavEntries.path}, '/') = 0`
    : sql`left(${webdavEntries.path}, ${path.length + 1}) = ${path + "/"} and strpos(substr(${webdavEntries.path}, ${path.length + 2}), '/') = 0`;

export const parentOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
export const baseNameOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);

async function lockOwnerTree(tx: Executor, ownerId: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${ownerId}::text, 5))`);
}

/** "" (/uploads) or an existing folder. */
async function isFolder(tx: Executor, ownerId: string, path: string) {
  if (path === "") return true;
  const [row] = await tx
    .select({ kind: webdavEntries.kind })
    .from(webdavEntries)
    .where(and(eq(webdavEntries.ownerId, ownerId), eq(webdavEntries.path, path)));
  return row?.kind === "folder";
}

/** A segment made from an upload's name: slashes and control characters become "_". */
export function pathSegmentFromName(name: string) {
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\]/g, "_").trim();
  return cleaned === "" || cleaned === "." || cleaned === ".." ? "_" : cleaned;
}

/** "report.pdf" → "report (2).pdf" */
function withNumber(segment: string, n: number) {
  const dot = segment.lastIndexOf(".");
  return dot > 0 ? `${segment.slice(0, dot)} (${n})${segment.slice(dot)}` : `${segment} (${n})`;
}

/** A person's uploads that have no place in /uploads yet, oldest first. */
const selectOrphans = (executor: Executor, ownerId: string) =>
  executor
    .select({ id: uploads.id, name: uploads.name, createdAt: uploads.createdAt })
    .from(uploads)
    .where(and(eq(uploads.ownerId, ownerId), sql`not exists (select 1 from ${webdavEntries} e where e.upload_id = ${uploads.id})`))
    .orderBy(asc(uploads.createdAt));

/**
 * Uploads made elsewhere (the page, datasets, watched sources) get a place at
 * the top of /uploads under their name, numbered when the name is taken. One
 * cheap query when there is nothing to do.
 */
export async function adoptUploads(db: Database, ownerId: string) {
  if ((await selectOrphans(db, ownerId)).length === 0) return 0;
  return db.transaction(async (tx) => {
    await lockOwnerTree(tx, ownerId);
    // Read again under the tree's lock (another request may have adopted or deleted some since), and held
    // against a delete from the page, which takes no tree lock: the entry's foreign key would fail (a 500).
    const orphans = await selectOrphans(tx, ownerId).for("key share", { of: uploads });
    let adopted = 0;
    for (const upload of orphans) {
      const segment = pathSegmentFromName(upload.name);
      for (let n = 1; n < 10_000; n++) {
        const path = n === 1 ? segment : withNumber(segment, n);
        const inserted = await tx
          .insert(webdavEntries)
          .values({ ownerId, path, kind: "file", uploadId: upload.id, createdAt: upload.createdAt, modifiedAt: upload.createdAt })
          .onConflictDoNothing()
          .returning({ id: webdavEntries.id });
        if (inserted.length > 0) {
          adopted++;
          break;
        }
      }
    }
    return adopted;
  });
}

export type CreateFolderOutcome = "created" | "exists" | "no_parent";

export async function createWebdavFolder(db: Database, args: { ownerId: string; path: string }): Promise<CreateFolderOutcome> {
  return db.transaction(async (tx) => {
    await lockOwnerTree(tx, args.ownerId);
    if (!(await isFolder(tx, args.ownerId, parentOf(args.path)))) return "no_parent";
    const inserted = await tx
      .insert(webdavEntries)
      .values({ ownerId: args.ownerId, path: args.path, kind: "folder" })
      .onConflictDoNothing()
      .returning({ id: webdavEntries.id });
    return inserted.length > 0 ? "created" : "exists";
  });
}

/** Whether a new file may go at a path now: its parent is a folder and the path is not a folder. */
export async function checkWebdavFileTarget(executor: Executor, args: { ownerId: string; path: string }) {
  if (!(await isFolder(executor, args.ownerId, parentOf(args.path)))) return "no_parent" as const;
  const existing = await getWebdavEntry(executor, args);
  if (existing?.kind === "folder") return "is_folder" as const;
  return existing ? ("exists" as const) : ("free" as const);
}

export type StoreFileOutcome =
  { ok: true; created: boolean; uploadId: string } | { ok: false; code: "no_parent" | "is_folder" | "precondition_failed" };

/**
 * A file written over WebDAV (PUT, or the target of a COPY) becomes an upload
 * like any other: the bytes stream into the local store, then ONE transaction
 * inserts the upload with its processing jobs (acceptUpload) and puts it at
 * its path. Over an existing file, the path (and its dead properties) moves
 * to the new upload and the old upload is deleted in the same transaction.
 * FileTooLargeError past maxBytes, with nothing kept.
 */
export async function storeWebdavFile(
  db: Database,
  source: AsyncIterable<Uint8Array>,
  args: { ownerId: string; path: string; declaredType: string | null; maxBytes: number; precondition?: EntryPrecondition },
): Promise<StoreFileOutcome> {
  let uploadThingKeys: string[] = [];
  const outcome = await storeThenAccept(db, source, { maxBytes: args.maxBytes }, async (stored) => {
    const accepted = await db.transaction(async (tx): Promise<StoreFileOutcome> => {
      await lockOwnerTree(tx, args.ownerId);
      if (args.precondition && !args.precondition(await getWebdavEntry(tx, args))) return { ok: false, code: "precondition_failed" };
      const target = await checkWebdavFileTarget(tx, args);
      if (target === "no_parent" || target === "is_folder") return { ok: false, code: target };
      const upload = await acceptUpload(tx, {
        ownerId: args.ownerId,
        name: baseNameOf(args.path),
        size: stored.size,
        storage: "local",
        storageKey: stored.key,
        declaredType: args.declaredType,
      });
      const [previous] = await tx
        .select({ id: webdavEntries.id, uploadId: webdavEntries.uploadId })
        .from(webdavEntries)
        .where(and(eq(webdavEntries.ownerId, args.ownerId), eq(webdavEntries.path, args.path)));
      if (!previous) {
        await tx.insert(webdavEntries).values({ ownerId: args.ownerId, path: args.path, kind: "file", uploadId: upload.id });
        return { ok: true, created: true, uploadId: upload.id };
      }
      // Re-point the path first: the entry would otherwise go with the old upload.
      await tx
        .update(webdavEntries)
        .set({ uploadId: upload.id, modifiedAt: sql`now()` })
        .where(eq(webdavEntries.id, previous.id));
      const replaced = previous.uploadId ? await deleteUpload(tx, { id: previous.uploadId, ownerId: args.ownerId }) : null;
      if (replaced?.storage === "uploadthing") uploadThingKeys = [replaced.storageKey];
      return { ok: true, created: false, uploadId: upload.id };
    });
    return { value: accepted, keepBytes: accepted.ok };
  });
  await deleteAtUploadThing(uploadThingKeys);
  return outcome;
}

/**
 * Deletes the entry at a path and everything under it; files are deleted as
 * uploads (bytes, steps, jobs) in the same transaction.
 */
export async function deleteWebdavEntry(
  db: Database,
  args: { ownerId: string; path: string; precondition?: EntryPrecondition },
): Promise<"deleted" | "not_found" | "precondition_failed"> {
  const outcome = await db.transaction(async (tx) => {
    await lockOwnerTree(tx, args.ownerId);
    if (args.precondition && !args.precondition(await getWebdavEntry(tx, args))) return "precondition_failed" as const;
    return (await deleteSubtree(tx, args.ownerId, args.path)) ?? ("not_found" as const);
  });
  if (typeof outcome === "string") return outcome;
  await deleteAtUploadThing(outcome);
  return "deleted";
}

/** Deletes what is at and under a path; returns the UploadThing keys to delete once committed, or null when nothing was there. */
async function deleteSubtree(tx: Executor, ownerId: string, path: string): Promise<string[] | null> {
  const doomed = await tx
    .select({ id: webdavEntries.id, uploadId: webdavEntries.uploadId })
    .from(webdavEntries)
    .where(and(eq(webdavEntries.ownerId, ownerId), isAtOrUnder(path)));
  if (doomed.length === 0) return null;
  const uploadThingKeys: string[] = [];
  for (const entry of doomed) {
    if (!entry.uploadId) continue;
    const deleted = await deleteUpload(tx, { id: entry.uploadId, ownerId });
    if (deleted?.storage === "uploadthing") uploadThingKeys.push(deleted.storageKey);
  }
  await tx.delete(webdavEntries).where(
    and(
      eq(webdavEntries.ownerId, ownerId),
      inArray(
        webdavEntries.id,
        doomed.map((entry) => entry.id),
      ),
    ),
  );
  return uploadThingKeys;
}

/** After the commit: files stored at UploadThing (uploaded on the page) are deleted there too, as removeUpload does. */
async function deleteAtUploadThing(keys: string[]) {
  for (const key of keys) {
    await deleteUploadThingFile(key).catch((error) => console.error("UploadThing delete failed", key, error));
  }
}

export type MoveOutcome =
  { ok: true; overwritten: boolean } | { ok: false; code: "not_found" | "exists" | "no_parent" | "precondition_failed" };

/**
 * MOVE within /uploads: one transaction renames the entry and everything
 * under it (dead properties follow, being keyed by entry). With overwrite, what
 * was at the destination is deleted first, as RFC 4918 asks. A moved file's
 * upload takes its new name, so the page shows the same name.
 */
export async function moveWebdavEntry(
  db: Database,
  args: { ownerId: string; from: string; to: string; overwrite: boolean; precondition?: EntryPrecondition },
): Promise<MoveOutcome> {
  let uploadThingKeys: string[] = [];
  const outcome = await db.transaction(async (tx) => {
    await lockOwnerTree(tx, args.ownerId);
    const source = await getWebdavEntry(tx, { ownerId: args.ownerId, path: args.from });
    if (args.precondition && !args.precondition(source)) return { ok: false, code: "precondition_failed" } as const;
    if (!source) return { ok: false, code: "not_found" } as const;
    if (!(await isFolder(tx, args.ownerId, parentOf(args.to)))) return { ok: false, code: "no_parent" } as const;
    const existing = await getWebdavEntry(tx, { ownerId: args.ownerId, path: args.to });
    if (existing && !args.overwrite) return { ok: false, code: "exists" } as const;
    if (existing) uploadThingKeys = (await deleteSubtree(tx, args.ownerId, args.to)) ?? [];
    await tx
      .update(webdavEntries)
      .set({ path: sql`${args.to} || substr(${webdavEntries.path}, ${args.from.length + 1})` })
      .where(and(eq(webdavEntries.ownerId, args.ownerId), isAtOrUnder(args.from)));
    if (source.kind === "file") {
      await tx
        .update(uploads)
        .set({ name: baseNameOf(args.to) })
        .where(and(eq(uploads.id, source.uploadId), eq(uploads.ownerId, args.ownerId)));
    }
    return { ok: true, overwritten: Boolean(existing) } as const;
  });
  await deleteAtUploadThing(uploadThingKeys);
  return outcome;
}

// Dead properties. Entry ids come from getWebdavEntry (owner-scoped); the
// queries check the owner again, so a stray id reaches nobody else's entry.

export type WebdavPropertyName = { namespace: string; name: string };
export type WebdavPropertyValue = WebdavPropertyName & { value: string };

/** The dead properties of several entries at once (a PROPFIND of a folder), by entry id. */
export async function listWebdavProperties(executor: Executor, args: { ownerId: string; entryIds: string[] }) {
  const byEntry = new Map<string, WebdavPropertyValue[]>();
  if (args.entryIds.length === 0) return byEntry;
  const rows = await executor
    .select({
      entryId: webdavProperties.entryId,
      namespace: webdavProperties.namespace,
      name: webdavProperties.name,
      value: webdavProperties.value,
    })
    .from(webdavProperties)
    .innerJoin(webdavEntries, and(eq(webdavEntries.id, webdavProperties.entryId), eq(webdavEntries.ownerId, args.ownerId)))
    .where(inArray(webdavProperties.entryId, args.entryIds))
    .orderBy(asc(webdavProperties.namespace), asc(webdavProperties.name));
  for (const { entryId, ...property } of rows) {
    const list = byEntry.get(entryId) ?? [];
    list.push(property);
    byEntry.set(entryId, list);
  }
  return byEntry;
}

export type PropertyUpdate = ({ action: "set"; value: string } | { action: "remove" }) & WebdavPropertyName;

/** PROPPATCH: the updates in their order, in one transaction. False when the entry is not the owner's. */
export async function updateWebdavProperties(db: Database, args: { ownerId: string; entryId: string; updates: PropertyUpdate[] }) {
  return db.transaction(async (tx) => {
    const [entry] = await tx
      .select({ id: webdavEntries.id })
      .from(webdavEntries)
      .where(and(eq(webdavEntries.id, args.entryId), eq(webdavEntries.ownerId, args.ownerId)))
      .for("update");
    if (!entry) return false;
    for (const update of args.updates) {
      const key = and(
        eq(webdavProperties.entryId, entry.id),
        eq(webdavProperties.namespace, update.namespace),
        eq(webdavProperties.name, update.name),
      );
      if (update.action === "remove") {
        await tx.delete(webdavProperties).where(key);
      } else {
        await tx
          .insert(webdavProperties)
          .values({ entryId: entry.id, namespace: update.namespace, name: update.name, value: update.value })
          .onConflictDoUpdate({
            target: [webdavProperties.entryId, webdavProperties.namespace, webdavProperties.name],
            set: { value: update.value },
          });
      }
    }
    return true;
  });
}

/** COPY: the destination gets the source's dead properties. */
export async function copyWebdavProperties(executor: Executor, args: { ownerId: string; fromEntryId: string; toEntryId: string }) {
  await executor.execute(sql`
    insert into ${webdavProperties} (entry_id, namespace, name, value)
    select t.id, p.namespace, p.name, p.value
    from ${webdavProperties} p
    join ${webdavEntries} s on s.id = p.entry_id and s.owner_id = ${args.ownerId}
    join ${webdavEntries} t on t.id = ${args.toEntryId} and t.owner_id = ${args.ownerId}
    where p.entry_id = ${args.fromEntryId}
    on conflict (entry_id, namespace, name) do update set value = excluded.value`);
}

/** A person's configurations, oldest first (the order that decides which of two equal names keeps it plain). */
export async function listWebdavConfigurations(executor: Executor, args: { ownerId: string }) {
  return executor
    .select({ id: configurations.id, name: configurations.name, createdAt: configurations.createdAt, updatedAt: configurations.updatedAt })
    .from(configurations)
    .where(eq(configurations.ownerId, args.ownerId))
    .orderBy(asc(configurations.createdAt), asc(configurations.id));
}

/** A configuration's finished renders that have an image (with the image's size), oldest first. */
export async function listWebdavResultImages(executor: Executor, args: { ownerId: string; configurationId: string }) {
  return executor
    .select({
      id: results.id,
      params: sql<RenderParams>`${results.params}`,
      imageSha256: blobs.sha256,
      imageBytes: blobs.size,
      queuedAt: results.queuedAt,
      finishedAt: results.finishedAt,
    })
    .from(results)
    .innerJoin(blobs, eq(blobs.sha256, results.imageSha256))
    .where(and(eq(results.ownerId, args.ownerId), eq(results.configurationId, args.configurationId), eq(results.status, "succeeded")))
    .orderBy(asc(results.finishedAt), asc(results.id));
}

export { FileTooLargeError };
