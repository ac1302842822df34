import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors";

/** Reading the command line: everything here is pure, so it is unit-tested without a server. */

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: "boolean" },
  url: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/**
 * parseArgs refuses `--re -0.8` as ambiguous (the value looks like an option),
 * so a negative number after a string option is joined to it: `--re=-0.8`.
 */
export function joinNegativeNumbers(args: readonly string[], options: OptionSpec): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([a-z][\w-]*)$/.exec(args[i])?.[1];
    const next = args[i + 1];
    if (name && options[name]?.type === "string" && next !== undefined && /^-(?:\d|\.\d|inf|nan)/i.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

export type ParsedArgs<O extends OptionSpec> = {
  values: { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };
  positionals: string[];
};

/** parseArgs in strict mode, its errors turned into usage errors (exit 2). */
export function parseCommandLine<O extends OptionSpec>(args: readonly string[], options: O, usage: string): ParsedArgs<O> {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeNumbers(args, options), options, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) throw new UsageError((error as Error).message.split("\n")[0], usage);
    throw error;
  }
}

// Plain decimal notation only: Number() would also take "", " ", "0x10", "1e999" (Infinity) and "Infinity".
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A finite decimal number, or a usage error naming the option. */
export function parseNumber(option: string, value: string, usage?: string): number {
  const trimmed = value.trim();
  const number = DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(number)) throw new UsageError(`--${option} must be a number, not ${JSON.stringify(value)}`, usage);
  return number;
}

/** A whole number (as the API's depth, width and height are), or a usage error. */
export function parseInteger(option: string, value: string, usage?: string): number {
  const number = parseNumber(option, value, usage);
  if (!Number.isSafeInteger(number)) throw new UsageError(`--${option} must be a whole number, not ${JSON.stringify(value)}`, usage);
  return number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A render's or upload's id (a UUID): anything else is a typo, caught before a request. */
export function parseId(value: string | undefined, usage: string): string {
  if (value === undefined) throw new UsageError("Give the id of a render or upload", usage);
  const id = value.trim();
  if (!UUID.test(id))
    throw new UsageError(`${JSON.stringify(value)} is not a render or upload id (they look like 0b9f5c1e-…, 36 characters)`, usage);
  return id.toLowerCase();
}

/** No more positionals than a command takes (a missing one is reported by what reads it). */
export function expectPositionals(positionals: string[], max: number, usage: string) {
  if (positionals.length > max) throw new UsageError(`Unexpected argument ${JSON.stringify(positionals[max])}`, usage);
}
