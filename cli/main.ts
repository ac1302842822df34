import { readFileSync } from "node:fs";
import type { Command } from "./command";
import { cancel } from "./commands/cancel";
import { download } from "./commands/download";
import { login, logout } from "./commands/login";
import { render } from "./commands/render";
import { status } from "./commands/status";
import { upload } from "./commands/upload";
import { watch } from "./commands/watch";
import type { Io } from "./context";
import { CliError, EXIT, UsageError } from "./errors";

/** `longrun`: the Jobs API from a terminal or a script. cli/longrun.mjs runs this through tsx. */

const COMMANDS: Command[] = [login, logout, render, status, watch, cancel, upload, download];

export const HELP = `longrun: start, follow and fetch Longrun renders and uploads from a terminal or script

usage: longrun <command> [options]      longrun <command> --help

commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(10)}${command.summary}`).join("\n")}

options for every command:
  --json        print the API's JSON, one object per line, and nothing else on stdout
  --url URL     the server (default: LONGRUN_URL, else the one you logged in to, else http://localhost:3000)
  -h, --help    this help, or a command's

Answers go to stdout (ids, paths, or JSON with --json); progress and remarks go
to stderr (a live progress bar only when stderr is a terminal).

exit codes:
  0  success
  1  the job failed, was cancelled or superseded (render --wait, watch, upload --wait)
  2  usage error: unknown command or option, bad value (e.g. --re abc), missing file; nothing was sent
  3  the API refused the request (a 4xx other than 401, e.g. not_found, conflict, size_limit):
     "code: message" on stderr, and with --json the API's error object on stdout
  4  not authenticated: no token, or the server does not accept it (run longrun login)
  5  network or server error: unreachable, timed out, 5xx (or an unexpected failure)

environment:
  LONGRUN_URL          the server, instead of the stored one
  LONGRUN_TOKEN        the API token, instead of the stored one (for CI)
  LONGRUN_CONFIG_DIR   where config.json is kept (default $XDG_CONFIG_HOME/longrun, else ~/.config/longrun)

examples:
  longrun login --url http://localhost:3000                 # paste a token from the Tokens page
  longrun render --re -0.8 --im 0.156 --width 1024 --height 1024 --wait
  id=$(longrun render --re 0.285 --im 0.01) && longrun watch "$id"
  longrun upload scan.png notes.txt --wait
  longrun status "$id" --json | jq -r .status`;

/** What a usage error shows: the help is long, and the mistake should stay in view. */
const SHORT_USAGE = `usage: longrun <command> [options]
commands: ${COMMANDS.map((command) => command.name).join(", ")}
longrun --help for options, exit codes and examples; longrun <command> --help for a command`;

function version() {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError("Name a command", SHORT_USAGE);
    if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (name === "--version" || name === "-v") {
      io.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    if (name === "help") return await commandNamed(rest[0]).execute(io, ["--help"]);
    return await commandNamed(name).execute(io, rest);
  } catch (error) {
    return reportError(error, io, wantsJson(argv));
  }
}

function commandNamed(name: string | undefined): Command {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}`, SHORT_USAGE);
  return command;
}

// Read from the raw arguments: the error may have come from parsing them.
const wantsJson = (argv: readonly string[]) => argv.slice(0, argv.includes("--") ? argv.indexOf("--") : undefined).includes("--json");

function reportError(error: unknown, io: Io, isJson: boolean): number {
  if (!(error instanceof CliError)) {
    io.stderr.write(`longrun: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.unavailable;
  }
  if (isJson && error.details.apiError) io.stdout.write(`${JSON.stringify(error.details.apiError)}\n`);
  io.stderr.write(`longrun: ${error.message}\n`);
  if (error.details.usage) io.stderr.write(`\n${error.details.usage}\n`);
  return error.exitCode;
}
