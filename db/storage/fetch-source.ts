import { createHash, type Hash } from "node:crypto";
import dns, { type LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import os from "node:os";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import ipaddr from "ipaddr.js";
import { Agent, fetch as undiciFetch } from "undici";
import { formatBytes } from "@/lib/format";
import { parseDeclaredType, UPLOAD_NAME_MAX_LENGTH, uploadNameSchema } from "@/lib/validation/upload";
import type { Database } from "../client";
import { FileTooLargeError, writeStoredFile } from "./local-store";

/*
 * Watched sources: the worker fetches URLs people type, so every hop is checked
 * against private and local addresses (SSRF), and the bytes stream into the
 * local store under the upload size limit, like any upload.
 */

// ---- Which addresses the worker may reach ----

/**
 * IPv6 forms whose traffic goes to the IPv4 address in their last 32 bits, so that
 * address is what is judged: IPv4-mapped, IPv4-compatible (deprecated, also covers ::
 * and ::1), SIIT-translated (RFC 6145) and the well-known NAT64 prefix (RFC 6052), which
 * an IPv6-only network uses to reach every IPv4 host. Other special-purpose IPv6 ranges
 * (6to4, Teredo, local-use NAT64 64:ff9b:1::/48, documentation…) are refused outright.
 */
const IPV4_CARRYING_PREFIXES = ["::ffff:0:0/96", "::/96", "::ffff:0:0:0/96", "64:ff9b::/96"].map((cidr) => ipaddr.IPv6.parseCIDR(cidr));
/** The only IPv6 block IANA allocates for global unicast; the rest is reserved. */
const GLOBAL_UNICAST_IPV6 = ipaddr.IPv6.parseCIDR("2000::/3");

/** The IPv4 address an IPv6 address stands for, or the address itself. */
function unwrapIPv4(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === "ipv4") return address;
  if (!IPV4_CARRYING_PREFIXES.some((prefix) => address.match(prefix))) return address;
  return ipaddr.IPv4.parse(address.toByteArray().slice(12).join("."));
}

/** An IP address as ipaddr.js reads it, IPv4-carrying IPv6 forms unwrapped; null when Node does not call it an IP address. */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (isIP(address) === 0) return null;
  try {
    return unwrapIPv4(ipaddr.parse(address));
  } catch {
    return null;
  }
}

/** This machine's own addresses: a fetch of one reaches this host whatever its range. */
export function machineAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
}

const normalised = (address: ipaddr.IPv4 | ipaddr.IPv6) => `${address.kind()} ${address.toNormalizedString()}`;

/**
 * Whether an IP address is a host on the public internet and not this machine: anything
 * in IANA's special-purpose registries (ipaddr.js's range() other than "unicast":
 * private, loopback, link-local, carrier-grade NAT, documentation, benchmarking,
 * reserved, multicast…) is refused, IPv6 forms that carry an IPv4 address are judged by
 * that address, and so are the machine's own interface addresses.
 */
export function isPublicAddress(address: string, ownAddresses: string[] = machineAddresses()): boolean {
  const parsed = parseAddress(address);
  if (!parsed || parsed.range() !== "unicast") return false;
  if (parsed.kind() === "ipv6" && !parsed.match(GLOBAL_UNICAST_IPV6)) return false;
  return !ownAddresses.some((own) => {
    const ownParsed = parseAddress(own);
    return ownParsed !== null && normalised(ownParsed) === normalised(parsed);
  });
}

/** Resolves a host name to all its addresses (family 0: both); tests pass a stub so no name leaves the machine. */
export type ResolveHost = (hostname: string, family?: 0 | 4 | 6) => Promise<{ address: string; family: number }[]>;
const resolveWithSystem: ResolveHost = (hostname, family = 0) => lookup(hostname, { all: true, verbatim: true, family });
const familyNumber = (family: dns.LookupOptions["family"]) =>
  family === "IPv4" ? 4 : family === "IPv6" ? 6 : family === 4 || family === 6 ? family : 0;

/** An expected way for a check to fail; its message completes "Failed: …". */
export class SourceFetchError extends Error {}

const refusedMessage = (what: string) => `${what} is a private or local address; only public hosts are fetched`;

/**
 * Refuses anything but http(s), and hosts with any non-public address. Checked
 * before every request, redirects included, because DNS can change between checks.
 */
export async function assertFetchableUrl(url: URL, options: { allowPrivateHosts: boolean; resolveHost?: ResolveHost }) {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new SourceFetchError(`${url.protocol} URLs are not fetched, only http(s)`);
  if (options.allowPrivateHosts) return;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: { address: string }[];
  try {
    addresses = isIP(host) ? [{ address: host }] : await (options.resolveHost ?? resolveWithSystem)(host);
  } catch {
    throw new SourceFetchError(`host not found (${host})`);
  }
  const ownAddresses = machineAddresses();
  const refused = addresses.find(({ address }) => !isPublicAddress(address, ownAddresses));
  if (refused) throw new SourceFetchError(refusedMessage(refused.address === host ? host : `${host} (${refused.address})`));
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The address check again, where the connection is made: fetch resolves the
 * host itself, and a DNS answer that changed since assertFetchableUrl
 * (rebinding) must not reach a private address.
 */
export function createPublicOnlyLookup(resolveHost: ResolveHost = resolveWithSystem) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    resolveHost(hostname, familyNumber(options.family)).then(
      (addresses) => {
        const ownAddresses = machineAddresses();
        const refused = addresses.find(({ address }) => !isPublicAddress(address, ownAddresses));
        if (refused) return callback(new SourceFetchError(refusedMessage(`${hostname} (${refused.address})`)), []);
        if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

/** Connections for watched sources: every one made to an address checked at connect time. */
const publicOnlyAgent = new Agent({ connect: { lookup: createPublicOnlyLookup() } });
export const publicOnlyFetch = ((input: string | URL, init?: RequestInit) =>
  undiciFetch(input, { ...(init as object), dispatcher: publicOnlyAgent })) as unknown as typeof fetch;

// ---- Fetching a version ----

const FETCH_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export type SourceValidators = { etag: string | null; lastModified: string | null };

export type FetchSourceOptions = {
  /** Largest version kept, checked from Content-Length and again while streaming. */
  maxBytes: number;
  /** Only for tests and local development: lets the worker reach loopback and private networks. */
  allowPrivateHosts: boolean;
  fetchImpl?: typeof fetch;
  /** Stops the transfer early (a worker shutting down). */
  signal?: AbortSignal;
};

export type FetchedSource =
  | ({ kind: "not_modified" } & SourceValidators)
  | ({ kind: "stored"; key: string; size: number; sha256: string; declaredType: string | null } & SourceValidators)
  | { kind: "failed"; reason: string };

/**
 * One conditional GET of a source, redirects followed by hand (each hop's host
 * checked). A 200's body goes into the local store while its sha256 is
 * computed; the caller decides whether that is a new version. Network problems,
 * HTTP errors and oversized bodies come back as "failed"; database errors throw.
 */
export async function fetchSourceVersion(
  db: Database,
  source: { url: string } & SourceValidators,
  options: FetchSourceOptions,
): Promise<FetchedSource> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const describeError = (error: unknown) =>
    timeout.aborted ? `no complete answer within ${FETCH_TIMEOUT_MS / 1000} s` : describeNetworkError(error);
  const headers: Record<string, string> = { "User-Agent": "Longrun source watcher" };
  if (source.etag) headers["If-None-Match"] = source.etag;
  if (source.lastModified) headers["If-Modified-Since"] = source.lastModified;

  try {
    const response = await requestFollowingRedirects(new URL(source.url), { ...options, headers, signal, describeError });
    const validators = { etag: response.headers.get("etag"), lastModified: response.headers.get("last-modified") };
    if (response.status === 304) {
      await response.body?.cancel().catch(() => {});
      return { kind: "not_modified", etag: validators.etag ?? source.etag, lastModified: validators.lastModified ?? source.lastModified };
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return { kind: "failed", reason: `HTTP ${response.status}` };
    }
    const declaredLength = Number(response.headers.get("content-length") ?? 0);
    if (declaredLength > options.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new FileTooLargeError(options.maxBytes);
    }
    const sha256 = createHash("sha256");
    const body = response.body ? Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>) : [];
    const stored = await writeStoredFile(db, hashing(body, sha256, describeError), { maxBytes: options.maxBytes });
    return {
      kind: "stored",
      ...stored,
      sha256: sha256.digest("hex"),
      declaredType: parseDeclaredType(response.headers.get("content-type")),
      ...validators,
    };
  } catch (error) {
    if (error instanceof FileTooLargeError) return { kind: "failed", reason: `larger than ${formatBytes(error.maxBytes)}` };
    if (error instanceof SourceFetchError) return { kind: "failed", reason: error.message };
    throw error;
  }
}

async function requestFollowingRedirects(
  start: URL,
  options: FetchSourceOptions & { headers: Record<string, string>; signal: AbortSignal; describeError: (error: unknown) => string },
): Promise<Response> {
  const fetchImpl = options.fetchImpl ?? (options.allowPrivateHosts ? fetch : publicOnlyFetch);
  let url = start;
  for (let redirects = 0; ; redirects++) {
    await assertFetchableUrl(url, options);
    // "manual": fetch would otherwise follow redirects to hosts nobody checked.
    const response = await fetchImpl(url, { redirect: "manual", headers: options.headers, signal: options.signal }).catch(
      (error: unknown) => {
        if (error instanceof Error && error.cause instanceof SourceFetchError) throw error.cause; // refused at connect time
        throw new SourceFetchError(options.describeError(error));
      },
    );
    const location = response.headers.get("location");
    if (!REDIRECT_STATUSES.has(response.status) || !location) return response;
    await response.body?.cancel().catch(() => {});
    if (redirects === MAX_REDIRECTS) throw new SourceFetchError(`more than ${MAX_REDIRECTS} redirects`);
    try {
      url = new URL(location, url);
    } catch {
      throw new SourceFetchError("redirected to an invalid URL");
    }
  }
}

/** The body's bytes, hashed on the way through; a broken transfer becomes a SourceFetchError (not a database error). */
async function* hashing(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  hash: Hash,
  describeError: (error: unknown) => string,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      yield chunk;
    }
  } catch (error) {
    throw new SourceFetchError(`transfer interrupted: ${describeError(error)}`);
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/** fetch says "fetch failed" and hides the reason in `cause`. */
function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = cause && typeof cause === "object" && "code" in cause ? String(cause.code) : undefined;
  if (code && NETWORK_ERRORS[code]) return NETWORK_ERRORS[code];
  if (code && /CERT|TLS|SSL/.test(code)) return `TLS certificate refused (${code})`;
  if (error instanceof Error && error.name === "AbortError") return "stopped";
  return code ? `could not fetch (${code})` : "could not fetch";
}

/** What a source's uploads are called: the URL's last path segment, or its host. */
export function sourceUploadName(url: string): string {
  const parsed = new URL(url);
  const segment = parsed.pathname.split("/").findLast((part) => part.length > 0);
  let name = parsed.hostname;
  if (segment) {
    try {
      name = decodeURIComponent(segment);
    } catch {
      name = segment; // a stray "%" is kept as written
    }
  }
  const parsedName = uploadNameSchema.safeParse(name.slice(0, UPLOAD_NAME_MAX_LENGTH));
  return parsedName.success ? parsedName.data : parsed.hostname;
}
