import { Readable, Writable, PassThrough } from "node:stream";
import { v2 as webdav } from "webdav-server";
import type { Database } from "@/db/client";
import { getOwnedImage } from "@/db/queries/results";
import { checkStorageRoom, StorageQuotaError } from "@/db/queries/storage-usage";
import {
  adoptUploads,
  baseNameOf,
  checkWebdavFileTarget,
  copyWebdavProperties,
  createWebdavFolder,
  deleteWebdavEntry,
  FileTooLargeError,
  getWebdavEntry,
  getWebdavSubtreeTotals,
  listWebdavChildren,
  listWebdavConfigurations,
  listWebdavProperties,
  listWebdavResultImages,
  moveWebdavEntry,
  parentOf,
  pathSegmentFromName,
  storeWebdavFile,
  updateWebdavProperties,
  type EntryPrecondition,
  type PropertyUpdate,
  type WebdavEntryView,
  type WebdavPropertyName,
} from "@/db/queries/webdav";
import { readUploadBytes } from "@/db/storage";
import { renderFileName } from "@/lib/download-name";
import { describeError } from "@/lib/errors";
import { parseDeclaredType } from "@/lib/validation/upload";
import { copyDepthOf, mapErrorToStatus } from "./workarounds/webdav-server-file-system";
import { coveringLocks, isLockedWithoutSubmittedToken } from "./workarounds/webdav-server-lock-tokens";
import { checkRequest, PreconditionFailed, type ResourceVersion } from "./workarounds/webdav-server-preconditions";
import { NO_PROPERTIES } from "./workarounds/webdav-server-property-commands";
import { DAV } from "./xml";

const { Errors, ResourceType } = webdav;
type RequestContext = webdav.RequestContext;
type Path = webdav.Path;
type Callback<T> = (error?: Error, value?: T) => void;

/** A PUT whose client disconnected before the end of its body: nothing is kept. */
const ClientWentAway = new Error("The client went away before the end of the file");
/** Refused: past the upload size limit (413). */
export const PayloadTooLarge = new Error("The file is larger than the upload size limit");
/** Refused: a write outside /uploads, or to /uploads itself (403). */
const ReadOnly = Errors.Forbidden;
mapErrorToStatus(PayloadTooLarge, 413);
mapErrorToStatus(PreconditionFailed, 412);

const UPLOADS = "uploads";
const RESULTS = "results";
const STARTED_AT = new Date();

/**
 * What a path is. The tree each person sees:
 *   /                      read-only
 *   /uploads/…             their files and folders: read and write
 *   /results/              read-only: one folder per configuration,
 *   /results/<name>/…png   each holding its finished renders
 */
type Node =
  | { kind: "fixed-folder"; name: string }
  | { kind: "entry"; entry: WebdavEntryView }
  | { kind: "result-folder"; configurationId: string; createdAt: Date; modifiedAt: Date }
  | { kind: "result-image"; sha256: string; size: number; createdAt: Date; modifiedAt: Date };

export type ResourceView = {
  segments: string[];
  isFolder: boolean;
  size: number | null;
  contentType: string | null;
  etag: string;
  createdAt: Date;
  modifiedAt: Date;
  /** Under /uploads: the entry its dead properties belong to. */
  entryId: string | null;
};

type ResultFolder = { configurationId: string; createdAt: Date; modifiedAt: Date };
type ResultImage = { sha256: string; size: number; createdAt: Date; modifiedAt: Date };

/** What one request has looked up: a PROPFIND of a folder reads its children once, not once per property. */
type RequestMemo = {
  nodes: Map<string, Promise<Node | null>>;
  adopted?: Promise<unknown>;
  resultFolders?: Promise<Map<string, ResultFolder>>;
  resultImages: Map<string, Promise<Map<string, ResultImage>>>;
};

/** Gives each name once: the first keeps it, later ones get a number (or their id). */
function uniqueNames<T>(items: T[], nameOf: (item: T) => string, suffixOf: (item: T) => string) {
  const names = new Map<string, T>();
  for (const item of items) {
    const name = nameOf(item);
    names.set(names.has(name) ? suffixOf(item) : name, item);
  }
  return names;
}

export class LongrunFileSystem extends webdav.FileSystem {
  private readonly memos = new WeakMap<RequestContext, RequestMemo>();
  private readonly locks = new OwnerLocks();

  constructor(
    private readonly db: Database,
    private readonly options: { maxUploadBytes: number; log?: (line: string) => void },
  ) {
    super({
      uid: () => "LongrunFileSystem",
      serialize: (_fs, callback) => callback(undefined, {}),
      unserialize: (_data, callback) => callback(new Error("not serializable")),
    });
    this.doNotSerialize();
    if (options.log) logFault = options.log;
  }

  // ---- lookups -------------------------------------------------------------

  private memo(ctx: RequestContext): RequestMemo {
    let memo = this.memos.get(ctx);
    if (!memo) {
      memo = { nodes: new Map(), resultImages: new Map() };
      this.memos.set(ctx, memo);
    }
    return memo;
  }

  /** After a change, the request looks things up again. */
  private forget(ctx: RequestContext) {
    this.memos.delete(ctx);
  }

  private node(ctx: RequestContext, path: Path): Promise<Node | null> {
    return this.nodeOf(ownerOf(ctx), this.memo(ctx), path.paths);
  }

  private nodeOf(ownerId: string, memo: RequestMemo, segments: string[]): Promise<Node | null> {
    const key = `/${segments.join("/")}`;
    let found = memo.nodes.get(key);
    if (!found) {
      found = this.lookUp(ownerId, memo, segments);
      memo.nodes.set(key, found);
    }
    return found;
  }

  private async lookUp(ownerId: string, memo: RequestMemo, segments: string[]): Promise<Node | null> {
    if (segments.length === 0) return { kind: "fixed-folder", name: "" };
    const [top, ...rest] = segments;
    if (top === UPLOADS) {
      await this.adopt(memo, ownerId);
      if (rest.length === 0) return { kind: "fixed-folder", name: UPLOADS };
      const entry = await getWebdavEntry(this.db, { ownerId, path: rest.join("/") });
      return entry ? { kind: "entry", entry } : null;
    }
    if (top === RESULTS) {
      if (rest.length === 0) return { kind: "fixed-folder", name: RESULTS };
      const folder = (await this.resultFolders(memo, ownerId)).get(rest[0]);
      if (!folder) return null;
      if (rest.length === 1) return { kind: "result-folder", ...folder };
      const image = rest.length === 2 ? (await this.resultImages(memo, ownerId, folder.configurationId)).get(rest[1]) : undefined;
      return image ? { kind: "result-image", ...image } : null;
    }
    return null;
  }

  /**
   * For the If header and the preconditions (webdav/server.ts): a lookup of a path's version and the
   * tokens of the person's locks that cover it (on it, or on a folder above it deep enough).
   */
  conditionStates(ownerId: string) {
    // One memo for all the request's paths: the person's uploads are adopted once, not once per path.
    const memo: RequestMemo = { nodes: new Map(), resultImages: new Map() };
    return async (segments: string[]) => {
      const node = await this.nodeOf(ownerId, memo, segments);
      if (!node) return null;
      const locks = coveringLocks(segments, (key) => this.locks.forPath(ownerId, key));
      return { ...versionOf(node), lockTokens: locks.map((lock) => lock.uuid) };
    };
  }

  /** The version of a path that this request serves (GET and HEAD: workarounds/webdav-server-preconditions.ts). */
  async versionAt(ctx: RequestContext, path: Path): Promise<ResourceVersion> {
    const node = await this.node(ctx, path);
    return node && versionOf(node);
  }

  /** Uploads made on the page get a place in /uploads before anyone looks. */
  private adopt(memo: RequestMemo, ownerId: string) {
    return (memo.adopted ??= adoptUploads(this.db, ownerId));
  }

  private resultFolders(memo: RequestMemo, ownerId: string) {
    return (memo.resultFolders ??= listWebdavConfigurations(this.db, { ownerId }).then((rows) =>
      uniqueNames(
        rows.map((row) => ({
          configurationId: row.id,
          name: pathSegmentFromName(row.name),
          createdAt: row.createdAt,
          modifiedAt: row.updatedAt,
        })),
        (row) => row.name,
        (row) => `${row.name} (${row.configurationId.slice(0, 8)})`,
      ),
    ));
  }

  private resultImages(memo: RequestMemo, ownerId: string, configurationId: string) {
    let images = memo.resultImages.get(configurationId);
    if (!images) {
      images = listWebdavResultImages(this.db, { ownerId, configurationId }).then((rows) =>
        uniqueNames(
          rows.map((row) => ({
            sha256: row.imageSha256,
            size: row.imageBytes,
            createdAt: row.finishedAt ?? row.queuedAt,
            modifiedAt: row.finishedAt ?? row.queuedAt,
            name: renderFileName("julia", row.params).replace(/^julia_/, ""),
            id: row.id,
          })),
          (row) => row.name,
          (row) => row.name.replace(/\.png$/, `_${row.id.slice(0, 8)}.png`),
        ),
      );
      memo.resultImages.set(configurationId, images);
    }
    return images;
  }

  /** The node at a path, or ResourceNotFound. */
  private async existing(ctx: RequestContext, path: Path): Promise<Node> {
    const found = await this.node(ctx, path);
    if (!found) throw Errors.ResourceNotFound;
    return found;
  }

  // ---- webdav-server's file system interface ----------------------------------

  protected _type(path: Path, info: { context: RequestContext }, callback: Callback<webdav.ResourceType>) {
    settle(callback, async () => (isFolder(await this.existing(info.context, path)) ? ResourceType.Directory : ResourceType.File));
  }

  protected _fastExistCheck(ctx: RequestContext, path: Path, callback: (exists: boolean) => void) {
    this.node(ctx, path).then(
      (found) => callback(Boolean(found)),
      () => callback(false),
    );
  }

  protected _readDir(path: Path, info: { context: RequestContext }, callback: Callback<string[]>) {
    settle(callback, async () => {
      const ctx = info.context;
      const node = await this.existing(ctx, path);
      const ownerId = ownerOf(ctx);
      if (node.kind === "fixed-folder" && node.name === "") return [UPLOADS, RESULTS];
      if (node.kind === "fixed-folder" && node.name === RESULTS) return [...(await this.resultFolders(this.memo(ctx), ownerId)).keys()];
      if (node.kind === "result-folder") return [...(await this.resultImages(this.memo(ctx), ownerId, node.configurationId)).keys()];
      if ((node.kind === "fixed-folder" && node.name === UPLOADS) || (node.kind === "entry" && node.entry.kind === "folder")) {
        const children = await listWebdavChildren(this.db, { ownerId, path: uploadsPath(path) });
        const memo = this.memo(ctx);
        for (const child of children) memo.nodes.set(`/${UPLOADS}/${child.path}`, Promise.resolve({ kind: "entry", entry: child }));
        return children.map((child) => baseNameOf(child.path));
      }
      throw Errors.ResourceNotFound;
    });
  }

  protected _size(path: Path, info: { context: RequestContext }, callback: Callback<number>) {
    settle(callback, async () => {
      const node = await this.existing(info.context, path);
      if (node.kind === "entry" && node.entry.kind === "file") return node.entry.size;
      if (node.kind === "result-image") return node.size;
      throw Errors.NoSizeForAFolder;
    });
  }

  protected _mimeType(path: Path, info: { context: RequestContext }, callback: Callback<string>) {
    settle(callback, async () => {
      const node = await this.existing(info.context, path);
      if (node.kind === "entry" && node.entry.kind === "file") return node.entry.contentType ?? "application/octet-stream";
      if (node.kind === "result-image") return "image/png";
      throw Errors.NoMimeTypeForAFolder;
    });
  }

  protected _creationDate(path: Path, info: { context: RequestContext }, callback: Callback<number>) {
    settle(callback, async () => datesOf(await this.existing(info.context, path)).createdAt.getTime());
  }

  protected _lastModifiedDate(path: Path, info: { context: RequestContext }, callback: Callback<number>) {
    settle(callback, async () => datesOf(await this.existing(info.context, path)).modifiedAt.getTime());
  }

  protected _etag(path: Path, info: { context: RequestContext }, callback: Callback<string>) {
    settle(callback, async () => {
      const view = await this.describe(info.context, path);
      if (!view) throw Errors.ResourceNotFound;
      return view.etag;
    });
  }

  protected _openReadStream(path: Path, info: { context: RequestContext }, callback: Callback<Readable>) {
    settle(callback, async () => {
      const stream = Readable.from(await this.readBytes(info.context, path));
      // Cut short (deleted while read): the Content-Length already went out, so end the connection,
      // or the client waits for the rest forever.
      const ctx = info.context;
      stream.on("error", () => {
        if (ctx instanceof webdav.HTTPRequestContext) ctx.response.destroy();
      });
      return stream;
    });
  }

  private async readBytes(ctx: RequestContext, path: Path): Promise<AsyncIterable<Buffer>> {
    return this.bytesOf(ctx, await this.existing(ctx, path));
  }

  private async bytesOf(ctx: RequestContext, node: Node): Promise<AsyncIterable<Buffer>> {
    if (node.kind === "entry" && node.entry.kind === "file") return wholeFile(readUploadBytes(this.db, node.entry), node.entry.size);
    if (node.kind === "result-image") {
      const image = await getOwnedImage(this.db, { sha256: node.sha256, ownerId: ownerOf(ctx) });
      if (!image) throw Errors.ResourceNotFound;
      return (async function* () {
        yield image.data;
      })();
    }
    throw Errors.ExpectedAFileResourceType;
  }

  protected _create(path: Path, info: { context: RequestContext; type: webdav.ResourceType }, callback: Callback<void>) {
    settle(callback, async () => {
      const ctx = info.context;
      const ownerId = ownerOf(ctx);
      const target = writablePath(path);
      this.forget(ctx);
      if (info.type.isDirectory) {
        const outcome = await createWebdavFolder(this.db, { ownerId, path: target });
        if (outcome === "exists") throw Errors.ResourceAlreadyExists;
        if (outcome === "no_parent") throw Errors.IntermediateResourceMissing;
        return;
      }
      const check = await checkWebdavFileTarget(this.db, { ownerId, path: target });
      if (check === "no_parent") throw Errors.IntermediateResourceMissing;
      if (check !== "free") throw Errors.ResourceAlreadyExists;
      // A PUT's file is created by its write (_openWriteStream, next), with its bytes, as one
      // upload: not as an empty upload first, processed and then replaced.
      if (isPut(ctx)) return;
      // An empty file (a LOCK on a new name): an upload like any other.
      const outcome = await storeWebdavFile(this.db, emptyBytes(), {
        ownerId,
        path: target,
        declaredType: null,
        maxBytes: this.options.maxUploadBytes,
      }).catch(throwAsWebdavError);
      if (!outcome.ok) throw storeRefusals[outcome.code];
    });
  }

  protected _openWriteStream(path: Path, info: { context: RequestContext; estimatedSize: number }, callback: Callback<Writable>) {
    try {
      const ctx = info.context;
      const ownerId = ownerOf(ctx);
      const target = writablePath(path);
      if (info.estimatedSize > this.options.maxUploadBytes) throw PayloadTooLarge;
      const request = httpRequestOf(ctx);
      // Its body can no longer be read once the request is destroyed (the connection dropped, or Node
      // answered 400 to what followed it), even if it had all arrived: storing would wait forever for
      // the rest, keeping an empty stored file. Gone before we start: its "close" has passed.
      if (request?.destroyed && !request.readableEnded) throw ClientWentAway;
      this.forget(ctx);
      const body = new PassThrough();
      request?.once("close", () => {
        if (!request.readableEnded) body.destroy(ClientWentAway);
      });
      const declaredType = parseDeclaredType(request?.headers["content-type"]);
      const stored = storeWebdavFile(this.db, body, {
        ownerId,
        path: target,
        declaredType,
        maxBytes: this.options.maxUploadBytes,
        declaredBytes: info.estimatedSize,
        precondition: requestPrecondition(ctx),
      }).then(
        (outcome) => {
          if (!outcome.ok) throw storeRefusals[outcome.code];
        },
        (error) => {
          const refusal = asWebdavError(error);
          reportFault(refusal);
          throw refusal;
        },
      );
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (body.write(chunk)) done();
          else body.once("drain", () => done());
        },
        final: (done) => {
          body.end();
          stored.then(
            () => {
              this.forget(ctx);
              done();
            },
            (error: Error) => done(error),
          );
        },
      });
      // Refused midway (too large): stop reading the request.
      stored.catch((error: Error) => sink.destroy(error));
      callback(undefined, sink);
    } catch (error) {
      callback(error as Error);
    }
  }

  protected _delete(path: Path, info: { context: RequestContext; depth: number }, callback: Callback<void>) {
    settle(callback, async () => {
      const ctx = info.context;
      const target = writablePath(path);
      this.forget(ctx);
      const outcome = await deleteWebdavEntry(this.db, { ownerId: ownerOf(ctx), path: target, precondition: requestPrecondition(ctx) });
      if (outcome === "not_found") throw Errors.ResourceNotFound;
      if (outcome === "precondition_failed") throw PreconditionFailed;
    });
  }

  protected _move(from: Path, to: Path, info: { context: RequestContext; overwrite: boolean }, callback: Callback<boolean>) {
    settle(callback, async () => {
      if (holdsItsSource(from, to)) throw Errors.Forbidden;
      const ctx = info.context;
      const outcome = await moveWebdavEntry(this.db, {
        ownerId: ownerOf(ctx),
        from: writablePath(from),
        to: writablePath(to),
        overwrite: info.overwrite,
        precondition: requestPrecondition(ctx),
      });
      this.forget(ctx);
      if (outcome.ok) return outcome.overwritten;
      throw {
        not_found: Errors.ResourceNotFound,
        exists: Errors.ResourceAlreadyExists,
        no_parent: Errors.IntermediateResourceMissing,
        precondition_failed: PreconditionFailed,
      }[outcome.code];
    });
  }

  /**
   * COPY into /uploads, from /uploads or /results: a copied file is a new
   * upload (its bytes streamed into the store again, then processed); dead
   * properties are copied too. "Depth: 0" copies a folder without its members
   * (read from the request: workarounds/webdav-server-file-system.ts).
   */
  protected _copy(from: Path, to: Path, info: { context: RequestContext; overwrite: boolean; depth: number }, callback: Callback<boolean>) {
    settle(callback, async () => {
      if (holdsItsSource(from, to)) throw Errors.Forbidden;
      const ctx = info.context;
      const ownerId = ownerOf(ctx);
      const target = writablePath(to);
      const source = await this.existing(ctx, from);
      // The copy is of the version checked: an upload's bytes never change.
      if (checkRequest(ctx, versionOf(source)) !== "pass") throw PreconditionFailed;
      const depth = copyDepthOf(ctx, info.depth);
      const parent = await getWebdavEntry(this.db, { ownerId, path: parentOf(target) });
      if (parentOf(target) !== "" && parent?.kind !== "folder") throw Errors.IntermediateResourceMissing;
      const existing = await getWebdavEntry(this.db, { ownerId, path: target });
      if (existing && !info.overwrite) throw Errors.ResourceAlreadyExists;
      // A copy is bytes the client never sends: refused whole (507) before anything is copied or overwritten
      // when the files under /uploads it would copy cannot fit (each file is checked again as it is stored).
      if (source.kind === "entry" && !(depth === 0 && source.entry.kind === "folder")) {
        await checkStorageRoom(this.db, {
          ownerId,
          needed: await getWebdavSubtreeTotals(this.db, { ownerId, path: source.entry.path }),
          freed: existing ? await getWebdavSubtreeTotals(this.db, { ownerId, path: target }) : undefined,
        }).catch(throwAsWebdavError);
      }
      let overwritten = false;
      if (existing) {
        await deleteWebdavEntry(this.db, { ownerId, path: target });
        overwritten = true;
      }
      this.forget(ctx);
      await this.copyNode(ctx, ownerId, from, source, target, depth);
      this.forget(ctx);
      return overwritten;
    });
  }

  private async copyNode(ctx: RequestContext, ownerId: string, from: Path, source: Node, target: string, depth: number) {
    if (!isFolder(source)) {
      // The bytes of the file found, not of whatever is at its path by now (a folder moved there meanwhile).
      const outcome = await storeWebdavFile(this.db, await this.bytesOf(ctx, source), {
        ownerId,
        path: target,
        declaredType: source.kind === "entry" && source.entry.kind === "file" ? source.entry.contentType : "image/png",
        maxBytes: this.options.maxUploadBytes,
        declaredBytes: fileSizeOf(source),
      }).catch(throwAsWebdavError);
      if (!outcome.ok) throw storeRefusals[outcome.code];
    } else if ((await createWebdavFolder(this.db, { ownerId, path: target })) !== "created") {
      throw Errors.ResourceAlreadyExists;
    }
    if (source.kind === "entry") {
      const copy = await getWebdavEntry(this.db, { ownerId, path: target });
      if (copy) await copyWebdavProperties(this.db, { ownerId, fromEntryId: source.entry.id, toEntryId: copy.id });
    }
    if (!isFolder(source) || depth === 0) return;
    const names = await new Promise<string[]>((resolve, reject) =>
      this._readDir(from, { context: ctx }, (error, names) => (error ? reject(error) : resolve(names ?? []))),
    );
    for (const name of names) {
      const childPath = from.getChildPath(name);
      const child = await this.existing(ctx, childPath);
      await this.copyNode(ctx, ownerId, childPath, child, `${target}/${name}`, depth === -1 ? -1 : depth - 1);
    }
  }

  // ---- what our PROPFIND and PROPPATCH read (workarounds/webdav-server-property-commands.ts) ----

  /** What PROPFIND shows of a path, or null when nothing is there. */
  async describe(ctx: RequestContext, path: Path): Promise<ResourceView | null> {
    const node = await this.node(ctx, path);
    if (!node) return null;
    const { createdAt, modifiedAt } = datesOf(node);
    const view = { segments: path.paths, createdAt, modifiedAt, entryId: node.kind === "entry" ? node.entry.id : null };
    const etag = etagOf(node);
    if (node.kind === "entry" && node.entry.kind === "file") {
      return { ...view, isFolder: false, size: node.entry.size, contentType: node.entry.contentType ?? "application/octet-stream", etag };
    }
    if (node.kind === "result-image") return { ...view, isFolder: false, size: node.size, contentType: "image/png", etag };
    return { ...view, isFolder: true, size: null, contentType: null, etag };
  }

  /** The names inside a folder. */
  childNames(ctx: RequestContext, path: Path) {
    return new Promise<string[]>((resolve, reject) =>
      this._readDir(path, { context: ctx }, (error, names) => (error ? reject(error) : resolve(names ?? []))),
    );
  }

  /** The LOCKs held on a path (by its owner: nobody else's are visible). */
  locksOf(ctx: RequestContext, path: Path) {
    return new Promise<webdav.Lock[]>((resolve) =>
      this.locks.forPath(ownerOf(ctx), path.toString()).getLocks((_error, locks) => resolve(locks ?? [])),
    );
  }

  /** Dead properties of entries (all, or those named), by entry id; null past maxBytes (listWebdavProperties). */
  propertiesOf(ctx: RequestContext, entryIds: string[], options: { names?: WebdavPropertyName[]; maxBytes: number }) {
    return listWebdavProperties(this.db, { ownerId: ownerOf(ctx), entryIds, ...options });
  }

  /**
   * PROPPATCH: the instructions in order, all or none, in one transaction.
   * Returns each one's status: 200, or 403 for a protected (DAV:) property or
   * a resource outside /uploads, the others then 424 (Failed Dependency).
   */
  async updateProperties(ctx: RequestContext, path: Path, updates: PropertyUpdate[]): Promise<number[]> {
    const node = await this.existing(ctx, path);
    const isRefused = (update: PropertyUpdate) => node.kind !== "entry" || update.namespace === DAV;
    if (node.kind !== "entry" || updates.some(isRefused)) return updates.map((update) => (isRefused(update) ? 403 : 424));
    if (!(await updateWebdavProperties(this.db, { ownerId: ownerOf(ctx), entryId: node.entry.id, updates }))) throw Errors.ResourceNotFound;
    return updates.map(() => 200);
  }

  protected _propertyManager(path: Path, info: { context: RequestContext }, callback: Callback<webdav.IPropertyManager>) {
    settle(callback, async () => {
      await this.existing(info.context, path);
      return NO_PROPERTIES;
    });
  }

  /** Whether a LOCK keeps a request from changing a path (workarounds/webdav-server-lock-tokens.ts). */
  isLocked(ctx: RequestContext, path: Path | string, depthOrCallback: number | Callback<boolean>, maybeCallback?: Callback<boolean>): void {
    const callback = (typeof depthOrCallback === "function" ? depthOrCallback : maybeCallback)!;
    callback(
      undefined,
      isLockedWithoutSubmittedToken(ctx, path, (ownerId, key) => this.locks.forPath(ownerId, key)),
    );
  }

  /**
   * For LOCK (workarounds/webdav-server-lock-command.ts): the person's locks that cover a path (on it or on a
   * folder above it deep enough), each with the path it is on, and with `withMembers` also those on paths below.
   */
  locksAround(ctx: RequestContext, segments: string[], withMembers: boolean): HeldLock[] {
    const ownerId = ownerOf(ctx);
    const held: HeldLock[] = [];
    for (let length = 0; length <= segments.length; length++) {
      const root = segments.slice(0, length);
      this.locks.forPath(ownerId, `/${root.join("/")}`).getLocks((_error, locks) => {
        for (const lock of locks ?? []) if (length === segments.length || lock.depth === -1) held.push({ lock, root });
      });
    }
    return withMembers ? [...held, ...this.locks.below(ownerId, segments)] : held;
  }

  /** Holds a lock on a path (LOCK, once its conflicts are checked). */
  /** How many unexpired locks the person holds in this process (LOCK caps it). */
  lockCount(ctx: RequestContext) {
    return this.locks.countFor(ownerOf(ctx));
  }

  addLock(ctx: RequestContext, segments: string[], lock: webdav.Lock) {
    this.locks.forPath(ownerOf(ctx), `/${segments.join("/")}`).setLock(lock, () => {});
  }

  protected _lockManager(path: Path, info: { context: RequestContext }, callback: Callback<webdav.ILockManager>) {
    callback(undefined, this.locks.forPath(info.context.user?.uid ?? "", path.toString()));
  }
}

/**
 * LOCKs, in this process's memory, per person and path (a lock taken by one
 * person is invisible to everyone else). Only paths that hold a lock take memory.
 */
class OwnerLocks {
  private readonly byKey = new Map<string, webdav.Lock[]>();

  /** The locks on paths strictly below a path, with their paths. */
  below(ownerId: string, segments: string[]): HeldLock[] {
    const prefix = `${ownerId}\u0000/${segments.map((segment) => `${segment}/`).join("")}`;
    const held: HeldLock[] = [];
    for (const [key, locks] of this.byKey) {
      if (!key.startsWith(prefix) || key.length === prefix.length) continue;
      const root = key.slice(ownerId.length + 2).split("/");
      for (const lock of locks) if (!lock.expired()) held.push({ lock, root });
    }
    return held;
  }

  countFor(ownerId: string) {
    const prefix = `${ownerId}\u0000`;
    let count = 0;
    for (const [key, locks] of this.byKey) if (key.startsWith(prefix)) count += locks.filter((lock) => !lock.expired()).length;
    return count;
  }

  forPath(ownerId: string, path: string): webdav.ILockManager {
    const key = `${ownerId}\u0000${path}`;
    const current = () => {
      const locks = (this.byKey.get(key) ?? []).filter((lock) => !lock.expired());
      if (locks.length > 0) this.byKey.set(key, locks);
      else this.byKey.delete(key);
      return locks;
    };
    return {
      getLocks: (callback) => callback(undefined, current()),
      setLock: (lock, callback) => {
        this.byKey.set(key, [...current(), lock]);
        callback();
      },
      removeLock: (uuid, callback) => {
        const locks = current();
        const kept = locks.filter((lock) => lock.uuid !== uuid);
        if (kept.length > 0) this.byKey.set(key, kept);
        else this.byKey.delete(key);
        callback(undefined, kept.length < locks.length);
      },
      getLock: (uuid, callback) =>
        callback(
          undefined,
          current().find((lock) => lock.uuid === uuid),
        ),
      refresh: (uuid, timeoutSeconds, callback) => {
        const lock = current().find((candidate) => candidate.uuid === uuid);
        lock?.refresh(timeoutSeconds);
        callback(undefined, lock);
      },
    };
  }
}

/** A lock and the path it is on. */
export type HeldLock = { lock: webdav.Lock; root: string[] };

/**
 * A COPY or MOVE onto a folder above its source: with Overwrite, deleting the destination first would
 * delete the source too (a COPY then found nothing to copy, a MOVE nothing to move). Refused (403), as
 * Apache's mod_dav does; webdav-server has already answered 412 when Overwrite is F.
 */
function holdsItsSource(from: Path, to: Path) {
  return to.paths.length < from.paths.length && to.paths.every((segment, index) => from.paths[index] === segment);
}

function isFolder(node: Node) {
  return node.kind === "fixed-folder" || node.kind === "result-folder" || (node.kind === "entry" && node.entry.kind === "folder");
}

/** The size of a file (0 for a folder). */
function fileSizeOf(node: Node) {
  if (node.kind === "entry" && node.entry.kind === "file") return node.entry.size;
  return node.kind === "result-image" ? node.size : 0;
}

/** A refused store as webdav-server's errors: past the size limit 413, past the storage quota 507 (RFC 4918's Insufficient Storage). */
function asWebdavError(error: unknown) {
  if (error instanceof FileTooLargeError) return PayloadTooLarge;
  if (error instanceof StorageQuotaError) return Errors.InsufficientStorage;
  return error;
}

function throwAsWebdavError(error: unknown): never {
  throw asWebdavError(error);
}

/** Why storeWebdavFile refused, as webdav-server's errors. */
const storeRefusals = {
  no_parent: Errors.IntermediateResourceMissing,
  is_folder: Errors.ResourceAlreadyExists,
  precondition_failed: PreconditionFailed,
};

/** The request's preconditions as a check of the entry a write changes, run inside its transaction. */
function requestPrecondition(ctx: RequestContext): EntryPrecondition {
  return (entry) => checkRequest(ctx, entry && versionOf({ kind: "entry", entry })) === "pass";
}

function versionOf(node: Node): NonNullable<ResourceVersion> {
  return { etag: etagOf(node), modifiedAt: datesOf(node).modifiedAt };
}

/** An upload's bytes never change (a PUT over a file makes a new upload), nor does a render's image. */
function etagOf(node: Node) {
  if (node.kind === "entry" && node.entry.kind === "file") return `"${node.entry.uploadId}"`;
  if (node.kind === "result-image") return `"${node.sha256}"`;
  return `"${datesOf(node).modifiedAt.getTime().toString(36)}"`;
}

function datesOf(node: Node): { createdAt: Date; modifiedAt: Date } {
  if (node.kind === "fixed-folder") return { createdAt: STARTED_AT, modifiedAt: STARTED_AT };
  if (node.kind === "entry") return node.entry;
  return node;
}

/** The signed-in person: the server refuses requests without one before webdav-server sees them. */
function ownerOf(ctx: RequestContext): string {
  const uid = ctx.user?.uid;
  if (!uid || ctx.user.isDefaultUser) throw Errors.MissingAuthorisationHeader;
  return uid;
}

/** The path inside /uploads that a write may change ("a/b.txt"), or ReadOnly. */
function writablePath(path: Path): string {
  const [top, ...rest] = path.paths;
  if (top !== UPLOADS || rest.length === 0) throw ReadOnly;
  return rest.join("/");
}

function uploadsPath(path: Path) {
  return path.paths.slice(1).join("/");
}

function httpRequestOf(ctx: RequestContext) {
  return ctx instanceof webdav.HTTPRequestContext ? ctx.request : undefined;
}

function isPut(ctx: RequestContext) {
  return httpRequestOf(ctx)?.method === "PUT";
}

async function* emptyBytes(): AsyncGenerator<Uint8Array> {}

/**
 * A file's bytes, checked against its size: the file may be deleted (over WebDAV, on the page, or
 * replaced by a PUT) between finding its entry and reading its bytes, and the bytes then stop short or
 * never start. The first chunk is read now, so a file gone before reading began is a 404 (nothing
 * sent yet); a file cut short later ends the stream with an error.
 */
async function wholeFile(bytes: AsyncGenerator<Buffer>, size: number): Promise<AsyncIterable<Buffer>> {
  const first = await bytes.next();
  const firstLength = first.done ? 0 : first.value.length;
  if (firstLength === 0 && size > 0) throw Errors.ResourceNotFound;
  return (async function* () {
    let read = firstLength;
    if (!first.done) yield first.value;
    for await (const chunk of bytes) {
      read += chunk.length;
      yield chunk;
    }
    if (read !== size) throw new Error(`The file was deleted while it was read (${read} of ${size} bytes)`);
  })();
}

/** webdav-server's own errors (each maps to a status) and ours; anything else is a fault worth a log line. */
const EXPECTED_ERRORS = new Set<unknown>([...(Object.values(Errors) as Error[]), PayloadTooLarge, ClientWentAway]);
let logFault = (line: string) => console.error(line);

function reportFault(error: unknown) {
  // The database's reason first: drizzle's own message is the SQL.
  if (!EXPECTED_ERRORS.has(error)) logFault(`[webdav] ${describeError(error)}\n${error instanceof Error ? error.stack : String(error)}`);
}

/** Runs an async function and reports to a webdav-server callback (which answers 500 to an unexpected error, silently). */
function settle<T>(callback: Callback<T>, work: () => Promise<T>) {
  work().then(
    (value) => callback(undefined, value),
    (error: Error) => {
      reportFault(error);
      callback(error);
    },
  );
}
