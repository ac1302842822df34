import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { v2 as webdav } from "webdav-server";
import type { Database } from "@/db/client";
import { authenticateApiToken } from "@/db/queries/api-tokens";
import { countRequest } from "@/db/queries/rate-windows";
import { decideRate } from "@/lib/rate-limits";
import { LongrunFileSystem } from "./file-system";
import { parseRequestPath, pathOfUrl } from "./paths";
import {
  evaluateIfHeader,
  hideIfHeaderFromWebdavServer,
  parseIfHeader,
  type IfList,
  type IfResourceState,
} from "./workarounds/webdav-server-if-header";
import { replaceLockCommand } from "./workarounds/webdav-server-lock-command";
import { submittedLockTokens } from "./workarounds/webdav-server-lock-tokens";
import {
  evaluatePreconditions,
  readPreconditions,
  requestChecks,
  withVersionHeaders,
  type PreconditionOutcome,
  type Preconditions,
  type ResourceVersion,
} from "./workarounds/webdav-server-preconditions";
import { replacePropertyCommands } from "./workarounds/webdav-server-property-commands";
import {
  ALLOWED_METHODS,
  isCopyOrMoveIntoItself,
  isPostTakenForPut,
  useCheckedDestination,
  withoutCorsHeaders,
  withoutPostCommand,
} from "./workarounds/webdav-server-requests";
import { FILE_RESPONSE_HEADERS } from "@/lib/http";

export const WEBDAV_REALM = "Longrun";
/** Bodies of methods other than PUT (PROPFIND, PROPPATCH, LOCK: small XML); webdav-server holds them in memory. */
const MAX_XML_BODY_BYTES = 1024 * 1024;
/**
 * Conditions in an If header (so lists too: each has one or more). Each resource an If header names is
 * looked up in the database before the request runs: 600 lists about other paths cost 1,200 queries.
 * Clients send a list or two (a lock's token, an etag); litmus's locks tests pass well within 64.
 */
export const MAX_IF_CONDITIONS = 64;
/**
 * Requests one person may have in flight in this process (429 past it). Below the database pool's
 * size (WEBDAV_DATABASE_POOL_MAX, 10 by default), so one person's requests waiting on their own tree's
 * lock cannot hold every connection; above the parallelism clients use for transfers (rclone: 4, and
 * it retries a 429). Counted in memory: per process, as the LOCKs are.
 */
export const MAX_REQUESTS_IN_FLIGHT_PER_PERSON = 8;

export type WebdavServerOptions = {
  db: Database;
  /** Largest file a PUT or COPY may store (UPLOAD_MAX_BYTES, as for uploads on the page). */
  maxUploadBytes: number;
  /** MAX_REQUESTS_IN_FLIGHT_PER_PERSON unless given (tests of interleavings send more at once). */
  maxRequestsInFlightPerPerson?: number;
  log?: (line: string) => void;
};

/**
 * The WebDAV server: webdav-server (v2) over LongrunFileSystem, behind a small
 * front that refuses what should never reach it: requests without a valid API
 * token (401), paths with "..", encoded slashes or control characters (400),
 * large XML bodies (413), If headers with too many conditions (400), and
 * people past their requests a minute or their requests in flight (429).
 * Each person sees only their own tree.
 */
export function createWebdavServer(options: WebdavServerOptions): Server {
  const log = options.log ?? ((line) => console.log(line));
  const maxInFlight = options.maxRequestsInFlightPerPerson ?? MAX_REQUESTS_IN_FLIGHT_PER_PERSON;
  const users = new WeakMap<IncomingMessage, webdav.IUser>();
  const inFlight = new Map<string, number>();
  const fileSystem = new LongrunFileSystem(options.db, { maxUploadBytes: options.maxUploadBytes, log });
  const dav = new webdav.WebDAVServer({
    rootFileSystem: fileSystem,
    requireAuthentification: true,
    httpAuthentication: {
      // The front below answers 401 itself; successful responses need no challenge.
      askForAuthentication: () => ({}),
      getUser: (ctx, callback) => {
        const user = users.get(ctx.request);
        if (user) callback(undefined as unknown as Error, user);
        else callback(webdav.Errors.MissingAuthorisationHeader);
      },
    },
    // Refuse bodies where none is expected (MKCOL with a body is 415, as RFC 4918 asks).
    strictMode: true,
    serverName: "Longrun",
    version: "1",
  });
  replacePropertyCommands(dav, fileSystem);
  withVersionHeaders(dav, (ctx) => fileSystem.versionAt(ctx, ctx.requested.path));
  withoutPostCommand(dav);
  replaceLockCommand(dav, fileSystem);

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`[webdav] ${request.method} ${request.url}: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) respond(response, 500, "Internal server error");
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    withoutCorsHeaders(response);
    // Files come back under their stored type; a browser opening one must not run it (same host as the web).
    for (const [name, value] of Object.entries(FILE_RESPONSE_HEADERS)) response.setHeader(name, value);
    if (isPostTakenForPut(request)) {
      response.setHeader("Allow", ALLOWED_METHODS);
      return respond(response, 405, "Write files with PUT");
    }
    const paths = checkPaths(request);
    if (!paths.ok) return respond(response, 400, paths.problem);

    const token = basicPassword(request.headers.authorization);
    const user = token ? await authenticateApiToken(options.db, token) : null;
    const window = user && (await countRequest(options.db, { userId: user.id, door: "webdav" }));
    if (!user || !window) {
      response.setHeader("WWW-Authenticate", `Basic realm="${WEBDAV_REALM}", charset="UTF-8"`);
      return respond(response, 401, "Sign in with any user name and an API token as the password (create one on the Tokens page)");
    }
    const rate = decideRate("webdav", window);
    for (const [name, value] of Object.entries(rate.headers)) response.setHeader(name, value);
    if (!rate.isAllowed) {
      response.setHeader("Retry-After", String(rate.resetSeconds));
      return respond(response, 429, rate.message);
    }
    // The client went away while it was looked up: its "close" has been and gone, and nobody is left to answer.
    if (response.closed) return;
    const running = inFlight.get(user.id) ?? 0;
    if (running >= maxInFlight) {
      response.setHeader("Retry-After", "1");
      return respond(response, 429, `At most ${maxInFlight} requests at once per person; try again in a moment`);
    }
    inFlight.set(user.id, running + 1);
    // "close": the answer was sent, or the connection went away before.
    response.once("close", () => {
      const left = (inFlight.get(user.id) ?? 1) - 1;
      if (left > 0) inFlight.set(user.id, left);
      else inFlight.delete(user.id);
    });

    const { source, destination } = paths;
    if (destination) {
      if (isCopyOrMoveIntoItself(request, source, destination)) return respond(response, 403, "The destination is the source or inside it");
      useCheckedDestination(request, destination);
    }

    if (request.method !== "PUT") {
      if (request.headers["transfer-encoding"] && request.headers["content-length"] === undefined) {
        return respond(response, 411, "Send a Content-Length");
      }
      if (Number(request.headers["content-length"] ?? 0) > MAX_XML_BODY_BYTES) return respond(response, 413, "Request body too large");
    }

    const ifHeader = request.headers.if;
    const ifLists = ifHeader === undefined ? null : parseIfHeader(Array.isArray(ifHeader) ? ifHeader.join(" ") : ifHeader);
    if (ifHeader !== undefined && !ifLists) return respond(response, 400, "Malformed If header");
    if (ifLists && ifLists.reduce((count, list) => count + list.conditions.length, 0) > MAX_IF_CONDITIONS) {
      return respond(response, 400, `An If header may hold at most ${MAX_IF_CONDITIONS} conditions`);
    }
    const preconditions = readPreconditions(request.headers);
    if (ifLists || preconditions) {
      const check = await requestCheck(user.id, source, ifLists, preconditions, request.method ?? "");
      // GET and HEAD are checked against what they serve (withVersionHeaders); writes again inside their transaction.
      if (request.method !== "GET" && request.method !== "HEAD" && check.now === "failed") {
        return respond(response, 412, ifLists && !check.ifHeaderHolds ? "The If header's conditions do not hold" : "A precondition failed");
      }
      requestChecks.set(request, check.of);
    }
    if (ifLists) {
      const tokens = ifLists.flatMap((list) =>
        list.conditions.flatMap((condition) => (condition.kind === "token" && !condition.isNot ? [condition.token] : [])),
      );
      submittedLockTokens.set(request, tokens);
      hideIfHeaderFromWebdavServer(request);
    }

    // UNLOCK names its lock in Lock-Token: that is its submission of the token.
    const lockToken = String(request.headers["lock-token"] ?? "")
      .trim()
      .replace(/^<(.*)>$/, "$1");
    if (request.method === "UNLOCK" && lockToken)
      submittedLockTokens.set(request, [...(submittedLockTokens.get(request) ?? []), lockToken]);

    users.set(request, { uid: user.id, username: user.email, isAdministrator: false, isDefaultUser: false });
    // Its class types the method (mixed in from StartStop) as any.
    const executeRequest = dav.executeRequest as (request: IncomingMessage, response: ServerResponse) => void;
    executeRequest.call(dav, request, response);
  }

  /**
   * The request's check of its URI's version: the If header's lists (those about other resources read now,
   * those about the request URI with the version given) and RFC 7232's preconditions. `now` is its outcome on
   * the version read now.
   */
  async function requestCheck(
    ownerId: string,
    source: string[],
    ifLists: IfList[] | null,
    preconditions: Preconditions | null,
    method: string,
  ) {
    const segmentsOf = (resource: string | null) => {
      if (resource === null) return source;
      const raw = pathOfUrl(resource);
      const checked = raw === null ? null : parseRequestPath(raw);
      return checked?.ok ? checked.segments : null;
    };
    const isRequestUri = (segments: string[]) => segments.length === source.length && segments.every((segment, i) => segment === source[i]);
    const conditionState = fileSystem.conditionStates(ownerId);
    const current = await conditionState(source);
    const states = new Map<string | null, IfResourceState>();
    for (const { resource } of ifLists ?? []) {
      const segments = segmentsOf(resource);
      if (states.has(resource) || (segments && isRequestUri(segments))) continue;
      states.set(resource, segments ? await conditionState(segments) : null);
    }
    const ifHeaderHolds = (version: ResourceVersion) =>
      !ifLists ||
      evaluateIfHeader(ifLists, (resource) =>
        states.has(resource) ? (states.get(resource) ?? null) : version && { etag: version.etag, lockTokens: current?.lockTokens ?? [] },
      );
    const of = (version: ResourceVersion): PreconditionOutcome => {
      if (!ifHeaderHolds(version)) return "failed";
      return preconditions ? evaluatePreconditions(preconditions, version, method) : "pass";
    };
    return { of, now: of(current), ifHeaderHolds: ifHeaderHolds(current) };
  }
}

type CheckedPaths = { ok: true; source: string[]; destination: string[] | null } | { ok: false; problem: string };

/** The decoded segments of a request's path and Destination, or why one is refused. */
function checkPaths(request: IncomingMessage): CheckedPaths {
  // A fragment is never sent by a correct client; acting on the path without it could delete the wrong thing.
  if (request.url?.includes("#")) return { ok: false, problem: "Refused path: a request URI has no fragment" };
  const path = pathOfUrl(request.url ?? "");
  const checked = path === null ? { ok: false as const, reason: "bad request URL" } : parseRequestPath(path);
  if (!checked.ok) return { ok: false, problem: `Refused path: ${checked.reason}` };
  const destination = request.headers.destination;
  if (destination === undefined) return { ok: true, source: checked.segments, destination: null };
  if (String(destination).includes("#")) return { ok: false, problem: "Refused Destination: a Destination has no fragment" };
  const destinationPath = pathOfUrl(String(destination));
  const checkedDestination = destinationPath === null ? { ok: false as const, reason: "bad URL" } : parseRequestPath(destinationPath);
  if (!checkedDestination.ok) return { ok: false, problem: `Refused Destination: ${checkedDestination.reason}` };
  return { ok: true, source: checked.segments, destination: checkedDestination.segments };
}

/** The password of a Basic Authorization header (the user name is not used). */
export function basicPassword(header: string | undefined): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return null;
  const password = decoded.slice(colon + 1);
  return password.length > 0 && password.length <= 200 ? password : null;
}

function respond(response: ServerResponse, status: number, message: string) {
  response.statusCode = status;
  response.setHeader("Content-Type", "text/plain; charset=utf-8");
  response.end(`${message}\n`);
}
