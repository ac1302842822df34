import { STATUS_CODES } from "node:http";
import { v2 as webdav } from "webdav-server";
/**
 * Workaround: webdav-server 2.6's PROPFIND and PROPPATCH, replaced by ours.
 *
 * Upstream: its PROPPATCH answers twice (crashing the process: headers already sent) when a body has several
 * <set> blocks, applies sets before removes whatever their order, and is not atomic; its PROPFIND takes a
 * malformed body for allprop, and writes property names in namespaces ending in "/" (most of them) under a
 * wrong namespace. No upstream issue filed (none found in OpenMarshal/npm-WebDAV-Server); what would be filed:
 * one issue per behaviour above, each with the request body that shows it.
 *
 * What this does: PROPFIND and PROPPATCH are registered as our own commands, which keep a property as its
 * namespace and local name and its value as XML text, in Postgres (webdav_properties); PROPPATCH applies its
 * instructions in document order, all or none, in one transaction. webdav-server's own property managers get
 * NO_PROPERTIES.
 *
 * Delete when: webdav-server's commands pass, without `replacePropertyCommands`, litmus's props group
 * (webdav/litmus.integration.test.ts) and webdav/fuzz.integration.test.ts (never a 5xx). Unlikely: dead
 * properties would then have to live in its property managers rather than in our tables.
 */
import type { PropertyUpdate, WebdavPropertyName } from "@/db/queries/webdav";
import type { LongrunFileSystem, ResourceView } from "../file-system";
import { DAV, elementsOf, escapeXml, findElement, isNamed, parseXml, propertyElement, serializeXml } from "../xml";

/**
 * Properties a PROPFIND may name, or a PROPPATCH set or remove (413 past it). Each named property is
 * answered for every resource of a Depth 1 PROPFIND, so the answer grew with names × members: 16,000
 * names asked of a folder of 150 files made a 100 MiB answer from a 161 KiB request. Clients name the
 * few properties they show, a dozen or so; litmus's props tests pass well within 256.
 */
export const MAX_PROPERTIES_PER_REQUEST = 256;
/**
 * The largest PROPFIND answer (507 past it): built in memory before it is sent. Some 20,000 files at
 * Depth 1 with every live property; larger folders are listed by what they hold, not in one answer.
 */
export const MAX_PROPFIND_RESPONSE_BYTES = 16 * 1024 * 1024;

/** PROPFIND and PROPPATCH of `dav`, answered from `fileSystem`'s tree and properties. */
export function replacePropertyCommands(dav: webdav.WebDAVServer, fileSystem: LongrunFileSystem) {
  dav.method("PROPFIND", {
    isValidFor: (_ctx, type) => Boolean(type),
    unchunked: (ctx, data, callback) => respond(ctx, callback, () => propfind(fileSystem, ctx, data)),
  });
  dav.method("PROPPATCH", {
    isValidFor: (_ctx, type) => Boolean(type),
    unchunked: (ctx, data, callback) => respond(ctx, callback, () => proppatch(fileSystem, ctx, data)),
  });
}

/** A multistatus or error as XML, or a refusal's reason as plain text. */
type Answer = { status: number; xml?: string; text?: string };

function respond(ctx: webdav.HTTPRequestContext, callback: () => void, work: () => Promise<Answer>) {
  work().then(
    ({ status, xml, text }) => {
      ctx.setCode(status);
      if (xml !== undefined || text !== undefined) {
        const body = xml !== undefined ? `<?xml version="1.0" encoding="utf-8"?>\n${xml}` : `${text}\n`;
        ctx.response.setHeader("Content-Type", xml !== undefined ? "application/xml; charset=utf-8" : "text/plain; charset=utf-8");
        ctx.response.setHeader("Content-Length", Buffer.byteLength(body));
        ctx.response.write(body);
      }
      callback();
    },
    (error: Error) => {
      if (!ctx.setCodeFromError(error)) console.error("[webdav] PROPFIND/PROPPATCH failed", error);
      callback();
    },
  );
}

type PropfindRequest = { kind: "allprop" } | { kind: "propname" } | { kind: "prop"; names: WebdavPropertyName[] };

function parsePropfind(data: Buffer): PropfindRequest | null {
  if (data.length === 0) return { kind: "allprop" };
  const root = parseXml(data);
  if (!root || !isNamed(root, DAV, "propfind")) return null;
  const [choice] = elementsOf(root);
  if (!choice) return { kind: "allprop" };
  if (isNamed(choice, DAV, "allprop")) return { kind: "allprop" };
  if (isNamed(choice, DAV, "propname")) return { kind: "propname" };
  if (isNamed(choice, DAV, "prop")) return { kind: "prop", names: elementsOf(choice).map(({ namespace, name }) => ({ namespace, name })) };
  return null;
}

const LIVE_PROPERTIES = [
  "creationdate",
  "displayname",
  "getcontentlength",
  "getcontenttype",
  "getetag",
  "getlastmodified",
  "lockdiscovery",
  "resourcetype",
  "supportedlock",
] as const;

const SUPPORTED_LOCK = ["exclusive", "shared"]
  .map((scope) => `<D:lockentry><D:lockscope><D:${scope}/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`)
  .join("");

const tooManyProperties = (method: string): Answer => ({
  status: 413,
  text: `A ${method} may name at most ${MAX_PROPERTIES_PER_REQUEST} properties`,
});

async function propfind(fileSystem: LongrunFileSystem, ctx: webdav.HTTPRequestContext, data: Buffer): Promise<Answer> {
  const request = parsePropfind(data);
  if (!request) return { status: 400 };
  if (request.kind === "prop" && request.names.length > MAX_PROPERTIES_PER_REQUEST) return tooManyProperties("PROPFIND");
  const path = ctx.requested.path;
  const target = await fileSystem.describe(ctx, path);
  if (!target) return { status: 404 };
  const depth = ctx.headers.depth ?? -1;
  // A whole tree in one answer is refused, as RFC 4918 allows (clients ask folder by folder).
  if (depth === -1 && target.isFolder) return { status: 403, xml: `<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>` };

  const resources: { view: ResourceView; path: webdav.Path }[] = [{ view: target, path }];
  if (depth !== 0 && target.isFolder) {
    for (const name of await fileSystem.childNames(ctx, path)) {
      const childPath = path.getChildPath(name);
      const view = await fileSystem.describe(ctx, childPath);
      if (view) resources.push({ view, path: childPath });
    }
  }
  const entryIds = resources.map(({ view }) => view.entryId).filter((id): id is string => id !== null);
  const deadNames = request.kind === "prop" ? request.names.filter(({ namespace }) => namespace !== DAV) : undefined;
  const deadProperties = await fileSystem.propertiesOf(ctx, entryIds, { names: deadNames, maxBytes: MAX_PROPFIND_RESPONSE_BYTES });
  if (!deadProperties) return answerTooLarge;

  const responses: string[] = [];
  let bytes = 0;
  for (const { view, path: resourcePath } of resources) {
    const live = await liveProperties(fileSystem, ctx, view, resourcePath);
    const dead = (view.entryId && deadProperties.get(view.entryId)) || [];
    const found: string[] = [];
    const missing: string[] = [];
    if (request.kind === "prop") {
      for (const { namespace, name } of request.names) {
        const value =
          namespace === DAV ? live.get(name) : dead.find((property) => property.namespace === namespace && property.name === name)?.value;
        if (value === undefined) missing.push(propertyElement(namespace, name));
        else found.push(propertyElement(namespace, name, value));
      }
    } else {
      const withValues = request.kind === "allprop";
      for (const [name, value] of live) found.push(propertyElement(DAV, name, withValues ? value : ""));
      for (const property of dead) found.push(propertyElement(property.namespace, property.name, withValues ? property.value : ""));
    }
    const propstats = [propstat(found, 200), propstat(missing, 404)].join("");
    const response = `<D:response><D:href>${escapeXml(hrefOf(view))}</D:href>${propstats}</D:response>`;
    // Counted as it grows, so the answer is never built past the limit.
    bytes += Buffer.byteLength(response);
    if (bytes > MAX_PROPFIND_RESPONSE_BYTES) return answerTooLarge;
    responses.push(response);
  }
  return { status: 207, xml: `<D:multistatus xmlns:D="DAV:">${responses.join("")}</D:multistatus>` };
}

/** 507 Insufficient Storage (RFC 4918 §11.5): the server will not hold an answer that large. */
const answerTooLarge: Answer = {
  status: 507,
  text: `The answer would be larger than ${MAX_PROPFIND_RESPONSE_BYTES / 1024 / 1024} MiB: ask for fewer properties, Depth: 0, or a smaller folder`,
};

/** DAV: properties of a resource that apply to it, with their values as XML. */
async function liveProperties(fileSystem: LongrunFileSystem, ctx: webdav.HTTPRequestContext, view: ResourceView, path: webdav.Path) {
  const live = new Map<string, string>();
  const locks = await fileSystem.locksOf(ctx, path);
  for (const name of LIVE_PROPERTIES) {
    switch (name) {
      case "creationdate":
        live.set(name, view.createdAt.toISOString().replace(/\.\d{3}Z$/, "Z"));
        break;
      case "displayname":
        live.set(name, escapeXml(view.segments.at(-1) ?? ""));
        break;
      case "getcontentlength":
        if (view.size !== null) live.set(name, String(view.size));
        break;
      case "getcontenttype":
        if (view.contentType !== null) live.set(name, escapeXml(view.contentType));
        break;
      case "getetag":
        live.set(name, escapeXml(view.etag));
        break;
      case "getlastmodified":
        live.set(name, view.modifiedAt.toUTCString());
        break;
      case "lockdiscovery":
        live.set(name, locks.map((lock) => activeLock(lock, hrefOf(view))).join(""));
        break;
      case "resourcetype":
        live.set(name, view.isFolder ? "<D:collection/>" : "");
        break;
      case "supportedlock":
        live.set(name, SUPPORTED_LOCK);
        break;
    }
  }
  return live;
}

/** A lock as <D:activelock> (PROPFIND's lockdiscovery, and LOCK's answer: webdav-server-lock-command.ts). */
export function activeLock(lock: webdav.Lock, root: string) {
  const seconds = Math.max(0, Math.round((lock.expirationDate - Date.now()) / 1000));
  return (
    `<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:${lock.lockKind.scope.value.toLowerCase()}/></D:lockscope>` +
    `<D:depth>${lock.depth === -1 ? "infinity" : lock.depth}</D:depth><D:timeout>Second-${seconds}</D:timeout>` +
    ownerOf(lock) +
    `<D:locktoken><D:href>${escapeXml(lock.uuid)}</D:href></D:locktoken><D:lockroot><D:href>${escapeXml(root)}</D:href></D:lockroot></D:activelock>`
  );
}

/** The LOCK request's <owner>, kept as XML by our LOCK (webdav-server-lock-command.ts). */
function ownerOf(lock: webdav.Lock) {
  return typeof lock.owner === "string" && lock.owner !== "" ? `<D:owner>${lock.owner}</D:owner>` : "";
}

function propstat(properties: string[], status: number) {
  if (properties.length === 0) return "";
  return `<D:propstat><D:prop>${properties.join("")}</D:prop><D:status>HTTP/1.1 ${status} ${STATUS_CODES[status]}</D:status></D:propstat>`;
}

/** The path of a resource as a URL path: each segment percent-encoded; folders end with "/". */
export function hrefOf(view: Pick<ResourceView, "segments" | "isFolder">) {
  const path = `/${view.segments.map(encodeURIComponent).join("/")}`;
  return view.isFolder && view.segments.length > 0 ? `${path}/` : path;
}

function parseProppatch(data: Buffer): PropertyUpdate[] | null {
  const root = parseXml(data);
  if (!root || !isNamed(root, DAV, "propertyupdate")) return null;
  const updates: PropertyUpdate[] = [];
  for (const instruction of elementsOf(root)) {
    const isSet = isNamed(instruction, DAV, "set");
    if (!isSet && !isNamed(instruction, DAV, "remove")) return null;
    const prop = findElement(instruction, DAV, "prop");
    if (!prop) return null;
    for (const property of elementsOf(prop)) {
      const name = { namespace: property.namespace, name: property.name };
      updates.push(isSet ? { action: "set", ...name, value: serializeXml(property.children) } : { action: "remove", ...name });
    }
  }
  return updates;
}

async function proppatch(fileSystem: LongrunFileSystem, ctx: webdav.HTTPRequestContext, data: Buffer): Promise<Answer> {
  const updates = parseProppatch(data);
  if (!updates) return { status: 400 };
  // Each instruction is a statement in one transaction.
  if (updates.length > MAX_PROPERTIES_PER_REQUEST) return tooManyProperties("PROPPATCH");
  const path = ctx.requested.path;
  const target = await fileSystem.describe(ctx, path);
  if (!target) return { status: 404 };
  const isLocked = await new Promise<boolean>((resolve, reject) =>
    fileSystem.isLocked(ctx, path, (error, locked) => (error ? reject(error) : resolve(Boolean(locked)))),
  );
  if (isLocked) return { status: 423 };
  const statuses = await fileSystem.updateProperties(ctx, path, updates);
  const propstats = [...new Set(statuses)]
    .map((status) =>
      propstat(
        updates.filter((_, index) => statuses[index] === status).map((update) => propertyElement(update.namespace, update.name)),
        status,
      ),
    )
    .join("");
  return {
    status: 207,
    xml: `<D:multistatus xmlns:D="DAV:"><D:response><D:href>${escapeXml(hrefOf(target))}</D:href>${propstats}</D:response></D:multistatus>`,
  };
}

/**
 * Dead properties are read and written by our PROPFIND and PROPPATCH straight
 * from the database; webdav-server's own property managers go unused, so it
 * gets an empty, read-only one.
 */
export const NO_PROPERTIES: webdav.IPropertyManager = {
  setProperty: (_name, _value, _attributes, callback) => callback(webdav.Errors.Forbidden),
  getProperty: (_name, callback) => callback(webdav.Errors.PropertyNotFound),
  removeProperty: (_name, callback) => callback(webdav.Errors.Forbidden),
  getProperties: (callback) => callback(undefined, {}),
};
