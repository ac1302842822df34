import { setTimeout as sleep } from "node:timers/promises";
import { CliError, EXIT, type ApiErrorBody } from "./errors";

/**
 * The Jobs API over fetch: the bearer token on every request, API errors
 * turned into exit codes, and retries that are safe — a 429 waits for its
 * Retry-After (a bounded number of times), and a lost connection or a 502/503/504
 * is retried only for a GET or a POST carrying an Idempotency-Key.
 */

const MAX_RATE_LIMIT_RETRIES = 5;
const MAX_NETWORK_RETRIES = 2;
const LONGEST_RETRY_AFTER_MS = 120_000;
const JSON_TIMEOUT_MS = 60_000;

export type RequestOptions = {
  /** A JSON body. */
  json?: unknown;
  /** A body made anew for each attempt (a stream can be sent only once). */
  body?: () => AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
  /** The default aborts after a minute; streamed transfers pass null. */
  timeoutMs?: number | null;
};

export class ApiClient {
  private rateLimit: { remaining: number; resetSeconds: number } | null = null;

  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly notice: (line: string) => void,
  ) {}

  /** The response when it is 2xx; a CliError with the right exit code otherwise. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "longrun-cli", ...options.headers };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (options.json !== undefined) headers["Content-Type"] = "application/json";
    const isRetriable = method === "GET" || (method === "POST" && "Idempotency-Key" in headers);
    const timeoutMs = options.timeoutMs === undefined ? JSON_TIMEOUT_MS : options.timeoutMs;

    let networkRetries = 0;
    let rateLimitRetries = 0;
    for (;;) {
      let response: Response;
      try {
        // Concatenated, not new URL(path, base): a server under a path prefix keeps its prefix.
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          body: options.json !== undefined ? JSON.stringify(options.json) : (options.body?.() as BodyInit | undefined),
          ...(options.body ? { duplex: "half" } : {}),
          redirect: "error",
          signal: timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (isRetriable && networkRetries < MAX_NETWORK_RETRIES && !isLocalFailure(error) && (error as Error).name !== "TimeoutError") {
          await sleep(500 * 2 ** networkRetries++);
          continue;
        }
        throw this.networkError(error);
      }
      this.rememberRateLimit(response.headers);

      if (response.status === 429 && rateLimitRetries < MAX_RATE_LIMIT_RETRIES) {
        rateLimitRetries++;
        const waitMs = retryAfterMs(response.headers.get("retry-after"));
        this.notice(`Rate limited by the server; retrying in ${Math.ceil(waitMs / 1000)} s`);
        await response.body?.cancel();
        await sleep(waitMs);
        continue;
      }
      if ([502, 503, 504].includes(response.status) && isRetriable && networkRetries < MAX_NETWORK_RETRIES) {
        await response.body?.cancel();
        await sleep(500 * 2 ** networkRetries++);
        continue;
      }
      if (!response.ok) throw await this.apiError(response);
      return response;
    }
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const response = await this.request(method, path, options);
    try {
      return { status: response.status, body: (await response.json()) as T };
    } catch (error) {
      throw new CliError(
        EXIT.unavailable,
        `The server's answer to ${method} ${path} was not JSON (${(error as Error).message}); is ${this.baseUrl} a Longrun server?`,
      );
    }
  }

  async get<T>(path: string): Promise<T> {
    return (await this.json<T>("GET", path)).body;
  }

  /**
   * How long to wait before the next poll: at least `minimumMs`, and slower when
   * the rate-limit window is running out, so a long watch spreads its requests
   * over the window instead of running into 429s.
   */
  nextPollDelayMs(minimumMs = 500): number {
    if (!this.rateLimit) return minimumMs;
    const { remaining, resetSeconds } = this.rateLimit;
    const spare = remaining - 2; // leave a couple for the requests that follow a finished job
    if (spare <= 0) return Math.max(minimumMs, resetSeconds * 1000);
    return Math.max(minimumMs, Math.ceil((resetSeconds * 1000) / spare));
  }

  private rememberRateLimit(headers: Headers) {
    const remaining = Number(headers.get("ratelimit-remaining"));
    const resetSeconds = Number(headers.get("ratelimit-reset"));
    if (headers.has("ratelimit-remaining") && Number.isFinite(remaining) && Number.isFinite(resetSeconds)) {
      this.rateLimit = { remaining, resetSeconds };
    }
  }

  private async apiError(response: Response): Promise<CliError> {
    const text = await response.text().catch(() => "");
    let body: ApiErrorBody | null = null;
    try {
      const parsed = JSON.parse(text) as Partial<ApiErrorBody>;
      if (typeof parsed.error?.code === "string" && typeof parsed.error.message === "string") body = parsed as ApiErrorBody;
    } catch {
      // not our JSON: a proxy's page, say
    }
    const code = body?.error.code ?? `http_${response.status}`;
    const message = body?.error.message ?? (response.statusText || "no message");
    // The API's message usually summarises its fields already; only the others are added.
    const fields = (body?.error.fields ?? [])
      .filter((field) => !message.includes(`${field.field}: ${field.message}`))
      .map((field) => `\n  ${field.field}: ${field.message}`)
      .join("");
    const details = body ? { apiError: body } : {};
    if (response.status === 401) {
      const hint = this.token ? "Log in again with a valid token" : "Log in first";
      return new CliError(EXIT.unauthenticated, `${code}: ${message}\n${hint}: longrun login --url ${this.baseUrl}`, details);
    }
    if (response.status >= 500)
      return new CliError(EXIT.unavailable, `The server failed (${response.status} ${code}): ${message}`, details);
    return new CliError(EXIT.refused, `${code}: ${message}${fields}`, details);
  }

  private networkError(error: unknown): CliError {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if ((error as Error).name === "TimeoutError") return new CliError(EXIT.unavailable, `${this.baseUrl} did not answer in time`);
    if (cause?.message?.includes("redirect")) {
      return new CliError(EXIT.unavailable, `${this.baseUrl} answered with a redirect; use the server's final URL with --url`);
    }
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    return new CliError(EXIT.unavailable, `Cannot reach ${this.baseUrl} (${reason})`);
  }
}

/** A file that cannot be read is our problem, not the network's: retrying would not help. */
function isLocalFailure(error: unknown) {
  const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  return code === "ENOENT" || code === "EACCES" || code === "EISDIR";
}

/** Retry-After as seconds or an HTTP date; one second when missing or unreadable; capped. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1000;
  const seconds = /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(seconds)) return 1000;
  return Math.min(LONGEST_RETRY_AFTER_MS, Math.max(0, seconds));
}
