import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { CliError, EXIT, UsageError } from "./errors";

/**
 * Where the CLI keeps the server and token: `config.json` in
 * LONGRUN_CONFIG_DIR, else $XDG_CONFIG_HOME/longrun, else ~/.config/longrun;
 * the directory 0700 and the file 0600, since the token is a password.
 */

export type StoredConfig = { url?: string; token?: string };
export type Env = Record<string, string | undefined>;

export const DEFAULT_URL = "http://localhost:3000";
export const TOKEN_PATTERN = /^lr_[A-Za-z0-9_-]{43}$/;

export function configDirectory(env: Env): string {
  if (env.LONGRUN_CONFIG_DIR) return path.resolve(env.LONGRUN_CONFIG_DIR);
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir(), ".config");
  return path.join(base, "longrun");
}

export const configFile = (env: Env) => path.join(configDirectory(env), "config.json");

export async function readConfig(env: Env, warn: (line: string) => void): Promise<StoredConfig> {
  const file = configFile(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(EXIT.usage, `Cannot read ${file}: ${(error as Error).message}`);
  }
  if (process.platform !== "win32" && ((await stat(file)).mode & 0o077) !== 0) {
    warn(`Warning: ${file} can be read by other users; run: chmod 600 ${file}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    const { url, token } = parsed as Record<string, unknown>;
    return { url: typeof url === "string" ? url : undefined, token: typeof token === "string" ? token : undefined };
  } catch {
    throw new CliError(EXIT.usage, `${file} is not valid JSON; fix it or delete it and run longrun login again`);
  }
}

/** Written to a new 0600 file that then replaces the old one, so the token is never briefly readable or half-written. */
export async function writeConfig(env: Env, config: StoredConfig): Promise<string> {
  const directory = configDirectory(env);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    await chmod(temporary, 0o600); // in case the umask took bits away; it never adds them
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return file;
}

/** "http://host:3000/" → "http://host:3000"; anything but an http(s) URL is a usage error. */
export function normaliseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new UsageError(`${JSON.stringify(value)} is not a URL (e.g. http://localhost:3000)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`The server URL must start with http:// or https://, not ${url.protocol}`);
  if (url.username || url.password) throw new UsageError("Put the token in longrun login, not in the URL");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export type Settings = { url: string; token: string | null; tokenSource: "LONGRUN_TOKEN" | "config" | null };

/**
 * The server is --url, else LONGRUN_URL, else the stored one, else localhost.
 * The token is LONGRUN_TOKEN, else the stored one, but only for the server it
 * was stored for: `--url https://elsewhere` never sends your token elsewhere.
 */
export function resolveSettings(env: Env, stored: StoredConfig, urlFlag: string | undefined): Settings {
  const url = normaliseUrl(urlFlag ?? env.LONGRUN_URL ?? stored.url ?? DEFAULT_URL);
  if (env.LONGRUN_TOKEN) return { url, token: env.LONGRUN_TOKEN.trim(), tokenSource: "LONGRUN_TOKEN" };
  const isStoredServer = stored.url !== undefined && safeNormalise(stored.url) === url;
  return stored.token && isStoredServer ? { url, token: stored.token, tokenSource: "config" } : { url, token: null, tokenSource: null };
}

function safeNormalise(url: string) {
  try {
    return normaliseUrl(url);
  } catch {
    return null;
  }
}
