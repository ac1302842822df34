import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { v2 as webdav } from "webdav-server";
import type { Database } from "@/db/client";
import { authenticateApiToken } from "@/db/queries/api-tokens";
import { LongrunFileSystem } from "./file-system";
import { parseRequestPath, pathOfUrl } from "./paths";
import { evaluateIfHeader, hideIfHeaderFromWebdavServer, parseIfHeader } from "./workarounds/webdav-server-if-header";
import { submittedLockTokens } from "./workarounds/webdav-server-lock-tokens";
import { replacePropertyCommands } from "./workarounds/webdav-server-property-commands";
import {
  ALLOWED_METHODS,
  isCopyOrMoveIntoItself,
  isPostTakenForPut,
  useCheckedDestination,
  withoutCorsHeaders,
} from "./workarounds/webdav-server-requests";
import { FILE_RESPONSE_HEADERS } from "@/lib/http";

export const WEBDAV_REALM = "Longrun";
/** Bodies of methods other than PUT (PROPFIND, PROPPATCH, LOCK: small XML); webdav-server holds them in memory. */
const MAX_XML_BODY_BYTES = 1024 * 1024;

export type WebdavServerOptions = {
  db: Database;
  /** Largest file a PUT or COPY may store (UPLOAD_MAX_BYTES, as for uploads on the page). */
  maxUploadBytes: number;
  log?: (line: string) => void;
};

/**
 * The WebDAV server: webdav-server (v2) over LongrunFileSystem, behind a small
 * front that refuses what should never reach it: requests without a valid API
 * token (401), paths with "..", encoded slashes or control characters (400),
 * and large XML bodies (413). Each person sees only their own tree.
 */
export function createWebdavServer(options: WebdavServerOptions): Server {
  const log = options.log ?? ((line) => console.log(line));
  const users = new WeakMap<IncomingMessage, webdav.IUser>();
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
    lockTimeout: 3600,
  });
  replacePropertyCommands(dav, fileSystem);

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
    const user = token ? await authenticateApiToken(options.db, token, { countRequest: false }) : null;
    if (!user) {
      response.setHeader("WWW-Authenticate", `Basic realm="${WEBDAV_REALM}", charset="UTF-8"`);
      return respond(response, 401, "Sign in with any user name and an API token as the password (create one on the Tokens page)");
    }

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
    if (ifHeader !== undefined) {
      const lists = parseIfHeader(Array.isArray(ifHeader) ? ifHeader.join(" ") : ifHeader);
      if (!lists) return respond(response, 400, "Malformed If header");
      const holds = await evaluateIfHeader(lists, async (resource) => {
        const raw = resource === null ? pathOfUrl(request.url ?? "") : pathOfUrl(resource);
        const checked = raw === null ? null : parseRequestPath(raw);
        return checked?.ok ? fileSystem.conditionState(user.id, checked.segments) : null;
      });
      if (!holds) return respond(response, 412, "The If header's conditions do not hold");
      const tokens = lists.flatMap((list) =>
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
