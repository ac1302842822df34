import { spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { errorSchema, jobSchema, renderSchema, uploadSchema } from "../lib/api/schemas";
import { assertLocalDatabase } from "./assert-local-database";
import { signUpWithToken } from "./pages/app";

assertLocalDatabase(process.env.E2E_DATABASE_URL);

// The real `longrun` binary (node cli/longrun.mjs, as npm's bin link runs it)
// against the running web and workers. Each account keeps its config in its own
// temporary LONGRUN_CONFIG_DIR, so nothing touches the tester's own ~/.config.

const CLI = path.resolve("cli/longrun.mjs");
const SMALL = ["--re", "-0.8", "--im", "0.156", "--width", "64", "--height", "64", "--depth", "64"];
/** c = 0 at the free tier's largest size: minutes of work, so it is still unfinished when cancelled. */
const LONG = ["--re", "0", "--im", "0", "--width", "4096", "--height", "2048", "--depth", "5000"];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

type Outcome = { code: number | null; stdout: string; stderr: string };

const temporaryDirectories: string[] = [];
function temporaryDirectory() {
  const directory = mkdtempSync(path.join(tmpdir(), "longrun-cli-e2e-"));
  temporaryDirectories.push(directory);
  return directory;
}
test.afterAll(() => {
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
});

/** Runs the binary; never inherits the tester's LONGRUN_* settings. */
function longrun(
  args: string[],
  options: { configDir: string; cwd?: string; env?: Record<string, string>; input?: string },
): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, LONGRUN_CONFIG_DIR: options.configDir };
  for (const name of Object.keys(env)) if (name.startsWith("LONGRUN_") && name !== "LONGRUN_CONFIG_DIR") delete env[name];
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? options.configDir,
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), 75_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as unknown);

let baseURL: string;
let token: string;
let configDir: string;
const as = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) => longrun(args, { configDir, ...options });
const api = (pathname: string) => fetch(new URL(pathname, baseURL), { headers: { Authorization: `Bearer ${token}` } });

test.beforeAll(async ({ browser }, testInfo) => {
  baseURL = testInfo.project.use.baseURL!;
  const page = await browser.newPage({ baseURL });
  ({ token } = await signUpWithToken(page, "cli"));
  await page.close();
  configDir = temporaryDirectory();
  const login = await longrun(["login", "--url", baseURL, "--token", token], { configDir });
  expect(login.code, login.stderr).toBe(0);
});

test("login checks the token and stores it 0600; a bad token exits 4 and stores nothing", async () => {
  const fresh = temporaryDirectory();
  const configFile = path.join(fresh, "longrun", "config.json");
  const env = { LONGRUN_CONFIG_DIR: path.join(fresh, "longrun") };

  const wrongToken = `lr_${randomBytes(32).toString("base64url")}`;
  const refused = await longrun(["login", "--url", baseURL], { configDir: fresh, env, input: `${wrongToken}\n` });
  expect(refused.code).toBe(4);
  expect(refused.stderr).toContain("unauthorized");
  expect(refused.stderr).not.toContain(wrongToken);
  expect(existsSync(configFile)).toBe(false);

  const notAToken = await longrun(["login", "--url", baseURL], { configDir: fresh, env, input: "hunter2\n" });
  expect(notAToken.code).toBe(4);
  expect(existsSync(configFile)).toBe(false);

  // From stdin, as `pass show longrun | longrun login` would send it.
  const accepted = await longrun(["login", "--url", `${baseURL}/`, "--json"], { configDir: fresh, env, input: `${token}\n` });
  expect(accepted.code, accepted.stderr).toBe(0);
  expect(JSON.parse(accepted.stdout)).toMatchObject({ email: expect.stringMatching(/^cli-.*@example\.test$/), tier: "free" });
  expect(accepted.stdout + accepted.stderr).not.toContain(token);
  expect(statSync(configFile).mode & 0o777).toBe(0o600);
  expect(statSync(path.dirname(configFile)).mode & 0o777).toBe(0o700);
  expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ url: baseURL.replace(/\/$/, ""), token });

  // The stored token works, and only for the server it was stored for.
  const me = await longrun(["status", randomUUID()], { configDir: fresh, env });
  expect(me.code).toBe(3);
  expect(me.stderr).toContain("not_found");
  const elsewhere = await longrun(["status", randomUUID(), "--url", "http://127.0.0.1:9"], { configDir: fresh, env });
  expect(elsewhere.code).toBe(4);
});

test("without a token every command exits 4 and says how to log in", async () => {
  const empty = temporaryDirectory();
  for (const args of [
    ["status", randomUUID()],
    ["render", ...SMALL],
    ["download", randomUUID()],
  ]) {
    const outcome = await longrun([...args, "--url", baseURL], { configDir: empty });
    expect(outcome.code, args.join(" ")).toBe(4);
    expect(outcome.stderr).toContain("longrun login");
    expect(outcome.stdout).toBe("");
  }
});

test("usage errors exit 2 with a message, before any request", async () => {
  // An unreachable server: a request would exit 5, so exit 2 shows none was sent.
  const env = { LONGRUN_URL: "http://127.0.0.1:9", LONGRUN_TOKEN: token };
  const cases: [string[], string][] = [
    [["render", "--re", "abc", "--im", "0"], '--re must be a number, not "abc"'],
    [["render", "--re", "0", "--im", "0", "--depth", "1e999"], "--depth must be a number"],
    [["render", "--re", "0", "--im", "0", "--width", ""], "--width must be a number"],
    [["render", "--re", "0", "--im", "0", "--width", "64.5"], "--width must be a whole number"],
    [["render", "--im", "0"], "--re and --im are required"],
    [["render", "--re", "0", "--im", "0", "--colour", "red"], "Unknown option '--colour'"],
    [["status"], "Give the id"],
    [["status", "not-an-id"], "is not a render or upload id"],
    [["upload", "does-not-exist.txt"], "no such file"],
    [["frobnicate"], 'Unknown command "frobnicate"'],
  ];
  for (const [args, message] of cases) {
    const outcome = await as(args, { env });
    expect(outcome.code, args.join(" ")).toBe(2);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stderr).toContain("usage:");
    expect(outcome.stdout).toBe("");
  }
  const help = await as(["--help"], { env });
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/exit codes:[\s\S]*4 {2}not authenticated/);
});

test("render --wait saves the PNG the API serves and prints its path", async () => {
  const cwd = temporaryDirectory();
  const outcome = await as(["render", ...SMALL, "--name", "cli wait"], { cwd });
  expect(outcome.code, outcome.stderr).toBe(0);
  const id = outcome.stdout.trim();
  expect(id).toMatch(/^[0-9a-f-]{36}$/);

  const waited = await as(["render", ...SMALL, "--re", "-0.79", "--wait"], { cwd });
  expect(waited.code, waited.stderr).toBe(0);
  const file = waited.stdout.trim();
  expect(path.dirname(file)).toBe(cwd);
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);

  const [newest] = renderSchema.array().parse(((await (await api("/api/v1/renders?limit=1")).json()) as { items: unknown }).items);
  expect(newest.params).toMatchObject({ re: -0.79, width: 64 });
  const image = Buffer.from(await (await api(`/api/v1/renders/${newest.id}/image`)).arrayBuffer());
  expect(bytes.length).toBe(image.length);
  expect(bytes.equals(image)).toBe(true);
});

test("render --json, status --json and watch --json print the API's JSON and nothing else", async () => {
  const cwd = temporaryDirectory();
  const started = await as(["render", ...SMALL, "--im", "0.157", "--json"], { cwd });
  expect(started.code, started.stderr).toBe(0);
  const [render] = jsonLines(started.stdout).map((line) => renderSchema.parse(line));
  expect(["queued", "running", "succeeded"]).toContain(render.status);

  const status = await as(["status", render.id, "--json"], { cwd });
  expect(status.code, status.stderr).toBe(0);
  expect(jsonLines(status.stdout).map((line) => jobSchema.parse(line))).toEqual([
    expect.objectContaining({ id: render.id, kind: "render" }),
  ]);

  const watched = await as(["watch", render.id, "--json"], { cwd });
  expect(watched.code, watched.stderr).toBe(0);
  const [finished] = jsonLines(watched.stdout) as { file: string }[];
  expect(renderSchema.parse(finished)).toMatchObject({ id: render.id, status: "succeeded" });
  expect(readFileSync(finished.file).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  expect(readdirSync(cwd)).toEqual([path.basename(finished.file)]);
});

test("cancel stops a long render: exit 0, then status cancelled and watch exits 1", async () => {
  const started = await as(["render", ...LONG]);
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();

  const cancelled = await as(["cancel", id]);
  expect(cancelled.code, cancelled.stderr).toBe(0);
  expect(cancelled.stdout).toContain("cancelled");
  const status = await as(["status", id, "--json"]);
  expect(jobSchema.parse(JSON.parse(status.stdout))).toMatchObject({ id, status: "cancelled" });

  const watched = await as(["watch", id]);
  expect(watched.code).toBe(1);
  expect(watched.stderr).toContain("cancelled");

  // Finished renders cannot be cancelled: the API's conflict, exit 3.
  const again = await as(["cancel", id, "--json"]);
  expect(again.code).toBe(3);
  expect(errorSchema.parse(JSON.parse(again.stdout)).error.code).toBe("conflict");
});

test("upload two files --wait reports their md5 and type; download returns the same bytes", async () => {
  const cwd = temporaryDirectory();
  const text = Buffer.from("a line of text\n");
  // Zeros first: libmagic reads a type into about 1 % of random heads (DOS executables, zlib streams...).
  const binary = Buffer.concat([Buffer.alloc(1024), randomBytes(300_000 - 1024)]);
  writeFileSync(path.join(cwd, "notes.txt"), text);
  writeFileSync(path.join(cwd, "noise.bin"), binary);

  const outcome = await as(["upload", "notes.txt", "noise.bin", "--wait", "--json"], { cwd });
  expect(outcome.code, outcome.stderr).toBe(0);
  const uploads = jsonLines(outcome.stdout).map((line) => uploadSchema.parse(line));
  const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
  expect(uploads).toMatchObject([
    { name: "notes.txt", status: "succeeded", md5: md5(text), detectedType: "text/plain", size: text.length },
    { name: "noise.bin", status: "succeeded", md5: md5(binary), detectedType: "application/octet-stream", size: binary.length },
  ]);

  const into = temporaryDirectory();
  const downloaded = await as(["download", uploads[1].id, "--output", into], { cwd });
  expect(downloaded.code, downloaded.stderr).toBe(0);
  expect(downloaded.stdout.trim()).toBe(path.join(into, "noise.bin"));
  expect(readFileSync(downloaded.stdout.trim()).equals(binary)).toBe(true);
  // An existing file is not replaced.
  const second = await as(["download", uploads[1].id, "--output", into], { cwd });
  expect(second.stdout.trim()).toBe(path.join(into, "noise (1).bin"));

  // Human output: one id per file.
  const plain = await as(["upload", "notes.txt"], { cwd });
  expect(plain.code, plain.stderr).toBe(0);
  expect(plain.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
});

test("a hostile file name from the server never escapes the download directory", async () => {
  const response = await fetch(new URL(`/api/v1/uploads?name=${encodeURIComponent("../../escaped.txt")}`, baseURL), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
    body: "gotcha\n",
  });
  expect(response.status).toBe(202);
  const { id } = uploadSchema.parse(await response.json());
  const root = temporaryDirectory();
  const cwd = path.join(root, "a", "b");
  mkdirSync(cwd, { recursive: true });

  const outcome = await as(["download", id], { cwd });
  expect(outcome.code, outcome.stderr).toBe(0);
  expect(path.dirname(outcome.stdout.trim())).toBe(cwd);
  expect(readdirSync(cwd)).toEqual(["_.._escaped.txt"]);
  expect(readdirSync(root)).toEqual(["a"]);
  expect(readFileSync(path.join(cwd, "_.._escaped.txt"), "utf8")).toBe("gotcha\n");
});

test("someone else's id is the API's not_found: exit 3", async ({ browser }) => {
  const started = await as(["render", ...SMALL, "--im", "0.158"]);
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();

  const page = await browser.newPage({ baseURL });
  const stranger = await signUpWithToken(page, "cli-stranger");
  await page.close();
  const env = { LONGRUN_TOKEN: stranger.token };
  for (const command of ["status", "watch", "cancel", "download"]) {
    const outcome = await as([command, id, "--json"], { env });
    expect(outcome.code, command).toBe(3);
    expect(outcome.stderr).toContain("not_found");
    expect(errorSchema.parse(JSON.parse(outcome.stdout)).error.code).toBe("not_found");
  }
});

test("a 429 is waited out for its Retry-After, then the request goes through", async ({ browser }) => {
  test.slow(); // the rate window is a minute: this test waits for most of one
  const page = await browser.newPage({ baseURL });
  const limited = await signUpWithToken(page, "cli-limited");
  await page.close();
  let retryAfterSeconds = 0;
  for (let request = 0; request < 500 && retryAfterSeconds === 0; request++) {
    const response = await fetch(new URL("/api/v1/me", baseURL), { headers: { Authorization: `Bearer ${limited.token}` } });
    if (response.status === 429) retryAfterSeconds = Number(response.headers.get("retry-after"));
  }
  expect(retryAfterSeconds).toBeGreaterThan(0);

  const startedAt = Date.now();
  const outcome = await as(["status", randomUUID(), "--json"], { env: { LONGRUN_TOKEN: limited.token } });
  expect(outcome.stderr).toMatch(/Rate limited by the server; retrying in \d+ s/);
  // The API's answer once the window reset: not_found (this account has no jobs), not rate_limited.
  expect(outcome.code).toBe(3);
  expect(errorSchema.parse(JSON.parse(outcome.stdout)).error.code).toBe("not_found");
  expect(Date.now() - startedAt).toBeGreaterThanOrEqual((retryAfterSeconds - 2) * 1000);
});
