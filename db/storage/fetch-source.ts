import { createHash, type Hash } from "node:crypto";
import dns, { type LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
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

/** IPv4 ranges that are not the public internet; also refused in their NAT64 form (64:ff9b::/96). */
const NON_PUBLIC_IPV4: [network: string, prefix: number][] = [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT, internal in many clouds
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata services
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];
const NON_PUBLIC_IPV6: [network: string, prefix: number][] = [
  ["::", 128], // unspecified
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // deprecated site-local
  ["ff00::", 8], // multicast
];

const nonPublicAddresses = new BlockList();
for (const [network, prefix] of NON_PUBLIC_IPV4) {
  nonPublicAddresses.addSubnet(network, prefix, "ipv4");
  nonPublicAddresses.addSubnet(`64:ff9b::${network}`, 96 + prefix, "ipv6");
}
for (const [network, prefix] of NON_PUBLIC_IPV6) nonPublicAddresses.addSubnet(network, prefix, "ipv6");

/** Whether an IP address is on the public internet (BlockList also matches IPv4-mapped IPv6 such as ::ffff:127.0.0.1). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !nonPublicAddresses.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** An expected way for a check to fail; its message completes "Failed: …". */
export class SourceFetchError extends Error {}

/**
 * Refuses anything but http(s), and hosts with any non-public address. Checked
 * before every request, redirects included, because DNS can change between checks.
 */
export async function assertFetchableUrl(url: URL, options: { allowPrivateHosts: boolean }) {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new SourceFetchError(`${url.protocol} URLs are not fetched, only http(s)`);
  if (options.allowPrivateHosts) return;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: { address: string }[];
  try {
    addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true, verbatim: true });
  } catch {
    throw new SourceFetchError(`host not found (${host})`);
  }
  const refused = addresses.find(({ address }) => !isPublicAddress(address));
  if (refused) {
    const what = refused.address === host ? host : `${host} (${refused.address})`;
    throw new SourceFetchError(`${what} is a private or local address; only public hosts are fetched`);
  }
}

/**
 * The address check again, where the connection is made: fetch resolves the
 * host itself, and a DNS answer that changed since assertFetchableUrl
 * (rebinding) must not reach a private address.
 */
export function publicOnlyLookup(
  hostname: string,
  options: dns.LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find(({ address }) => !isPublicAddress(address));
    if (refused)
      return callback(
        new SourceFetchError(`${hostname} (${refused.address}) is a private or local address; only public hosts are fetched`),
        [],
      );
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/** Connections for watched sources: every one made to an address checked at connect time. */
const publicOnlyAgent = new Agent({ connect: { lookup: publicOnlyLookup } });
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
