import { COMMON_OPTIONS, parseCommandLine, type OptionSpec, type ParsedArgs } from "./args";
import { Context, type Io } from "./context";
import type { ExitCode } from "./errors";

export type Command = {
  name: string;
  summary: string;
  usage: string;
  execute(io: Io, args: readonly string[]): Promise<ExitCode>;
};

/** A command: its options (plus --json, --url, --help), its usage text, and what it does with them. */
export function defineCommand<O extends OptionSpec>(spec: {
  name: string;
  summary: string;
  usage: string;
  options: O;
  run(context: Context, args: ParsedArgs<O & typeof COMMON_OPTIONS>): Promise<ExitCode>;
}): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async execute(io, args) {
      const parsed = parseCommandLine(args, { ...spec.options, ...COMMON_OPTIONS }, spec.usage);
      if (parsed.values.help) {
        io.stdout.write(`${spec.usage}\n`);
        return 0;
      }
      const context = new Context(io, parsed.values.json === true, parsed.values.url as string | undefined);
      return spec.run(context, parsed);
    },
  };
}
