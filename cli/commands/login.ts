import type { z } from "zod";
import type { meSchema } from "@/lib/api/schemas";
import { expectPositionals } from "../args";
import { ApiClient } from "../client";
import { DEFAULT_URL, normaliseUrl, readConfig, TOKEN_PATTERN, writeConfig } from "../config";
import type { Io } from "../context";
import { defineCommand } from "../command";
import { CliError, EXIT, UsageError } from "../errors";

type Me = z.output<typeof meSchema>;

const usage = `usage: longrun login [--url URL] [--token TOKEN] [--json]

Checks a personal API token (create one on the server's Tokens page) and stores
it with the server's URL in the config file (mode 0600). Without --token the
token is read from stdin, hidden when typed, so it stays out of shell history:
  longrun login --url https://longrun.example
  pass show longrun | longrun login --url https://longrun.example`;

export const login = defineCommand({
  name: "login",
  summary: "Check an API token and store it (read from stdin unless --token)",
  usage,
  options: { token: { type: "string" } },
  async run(context, { values, positionals }) {
    expectPositionals(positionals, 0, usage);
    const { env } = context.io;
    const stored = await readConfig(env, (line) => context.note(line));
    const url = normaliseUrl(values.url ?? env.LONGRUN_URL ?? stored.url ?? DEFAULT_URL);
    const token = (values.token ?? (await readToken(context.io, `${url}/tokens`))).trim();
    if (token === "") throw new UsageError("No token given: type or pipe it in, or pass --token", usage);
    if (!TOKEN_PATTERN.test(token)) {
      throw new CliError(
        EXIT.unauthenticated,
        `That is not a Longrun API token (they are lr_ and 43 more characters); create one at ${url}/tokens`,
      );
    }

    const me = await new ApiClient(url, token, (line) => context.note(line)).get<Me>("/api/v1/me");
    const file = await writeConfig(env, { url, token });
    context.printJson(me);
    context.print(`Logged in to ${url} as ${me.email} (${me.tier} tier)`);
    context.note(`Token saved in ${file}`);
    if (env.LONGRUN_TOKEN) context.note("Note: LONGRUN_TOKEN is set, and takes precedence over the stored token");
    return EXIT.ok;
  },
});

export const logout = defineCommand({
  name: "logout",
  summary: "Forget the stored token (revoke it on the Tokens page too)",
  usage: "usage: longrun logout\n\nRemoves the token from the config file; it stays valid until revoked on the server's Tokens page.",
  options: {},
  async run(context, { positionals }) {
    expectPositionals(positionals, 0, "usage: longrun logout");
    const stored = await readConfig(context.io.env, (line) => context.note(line));
    if (!stored.token) {
      context.note("No token was stored");
      return EXIT.ok;
    }
    const file = await writeConfig(context.io.env, { url: stored.url });
    context.note(`Removed the token for ${stored.url ?? "the server"} from ${file}; revoke it on the Tokens page if it may have leaked`);
    return EXIT.ok;
  },
});

/** The token from stdin: typed at a hidden prompt in a terminal, or the first line of a pipe. */
async function readToken(io: Io, tokensPage: string): Promise<string> {
  if (io.stdin.isTTY) return promptHidden(io, `API token (create one at ${tokensPage}; input hidden): `);
  let text = "";
  io.stdin.setEncoding("utf8");
  for await (const chunk of io.stdin) {
    text += chunk as string;
    if (text.includes("\n") || text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

function promptHidden(io: Io, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write("\n");
    };
    const onData = (chunk: string) => {
      for (const char of chunk.replace(/\x1b\[20[01]~/g, "")) {
        if (char === "\r" || char === "\n" || char === "\u0004") {
          finish();
          resolve(value);
          return;
        }
        if (char === "\u0003") {
          finish();
          reject(new CliError(EXIT.interrupted, "Cancelled"));
          return;
        }
        value = char === "\u007f" || char === "\b" ? value.slice(0, -1) : value + char;
      }
    };
    stdin.on("data", onData);
  });
}
