import { ApiClient } from "./client";
import { readConfig, resolveSettings, type Env, type Settings } from "./config";
import { CliError, EXIT } from "./errors";

/** What a command runs with: its streams and environment (so tests can pass their own), and the API once it needs it. */
export type Io = {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: Env;
  cwd: string;
};

export class Context {
  private settingsPromise: Promise<Settings> | null = null;

  constructor(
    readonly io: Io,
    readonly isJson: boolean,
    private readonly urlFlag: string | undefined,
  ) {}

  /** The command's answer, for people (stdout; nothing with --json). */
  print(line: string) {
    if (!this.isJson) this.io.stdout.write(`${line}\n`);
  }

  /** The command's answer with --json: one JSON object per line. */
  printJson(value: unknown) {
    if (this.isJson) this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Remarks for people, on stderr so they never mix with the answer. */
  note(line: string) {
    this.io.stderr.write(`${line}\n`);
  }

  settings(): Promise<Settings> {
    this.settingsPromise ??= readConfig(this.io.env, (line) => this.note(line)).then((stored) =>
      resolveSettings(this.io.env, stored, this.urlFlag),
    );
    return this.settingsPromise;
  }

  /** The API with the stored (or LONGRUN_TOKEN) token: exit 4 before any request when there is none. */
  async client(): Promise<ApiClient> {
    const { url, token } = await this.settings();
    if (!token)
      throw new CliError(EXIT.unauthenticated, `Not logged in to ${url}. Run: longrun login --url ${url}  (or set LONGRUN_TOKEN)`);
    return new ApiClient(url, token, (line) => this.note(line));
  }
}
