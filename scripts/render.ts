// Renders one Julia set from the command line:
//   npm run render -- --re -0.8 --im 0.156 --depth 256 --width 512 --height 512 \
//     --zoom 1 --cx 0 --cy 0 --colormap nipy_spectral --out julia.png [--counts counts.bin] [--threads N]
// Every option has a default; --counts also writes the raw counts (uint32 little-endian, row-major, row 0 first).
import { writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { RenderPool, renderPng } from "../lib/render/index";
import { DEFAULT_CONFIGURATION, renderParamsSchema } from "../lib/validation/configuration";

const USAGE = `usage: npm run render -- [--re N] [--im N] [--depth 1..5000] [--width 16..4096] [--height 16..4096]
       [--zoom N>0] [--cx N] [--cy N] [--colormap NAME] [--out julia.png] [--counts counts.bin] [--threads N]`;

const PARAM_KEYS = ["re", "im", "depth", "width", "height", "zoom", "cx", "cy", "colormap"] as const;

// The render params are validated by the same schema as the web form; these are the CLI's own.
const cliSchema = z.object({
  out: z.string().trim().min(1, "Output path is required"),
  counts: z.string().trim().min(1, "Counts path must not be empty").optional(),
  threads: z
    .string()
    .regex(/^\s*\d+\s*$/, "Threads must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1, "Threads must be between 1 and 256").max(256, "Threads must be between 1 and 256"))
    .optional(),
});

/** Bad input: reported with the usage, exit code 2. */
class UsageError extends Error {}

/**
 * parseArgs refuses `--re -0.8` as ambiguous (the value looks like an option), so a
 * negative number after an option is joined to it first: `--re=-0.8`.
 */
function joinNegativeNumbers(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[a-z]+$/.test(args[i]) && next !== undefined && /^-(\d|\.\d|inf)/i.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

function parseCommandLine(args: string[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeNumbers(args),
      options: {
        ...Object.fromEntries(PARAM_KEYS.map((key) => [key, { type: "string" as const }])),
        out: { type: "string", default: "julia.png" },
        counts: { type: "string" },
        threads: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const paramsInput = Object.fromEntries(PARAM_KEYS.map((key) => [key, values[key] ?? String(DEFAULT_CONFIGURATION[key])]));
  const params = renderParamsSchema.safeParse(paramsInput);
  const cli = cliSchema.safeParse({ out: values.out, counts: values.counts, threads: values.threads });
  const issues = [...(params.error?.issues ?? []), ...(cli.error?.issues ?? [])];
  if (!params.success || !cli.success || issues.length > 0) {
    throw new UsageError(`invalid arguments:\n${issues.map((issue) => `  --${issue.path.join(".")}: ${issue.message}`).join("\n")}`);
  }
  return { params: params.data, ...cli.data };
}

async function main() {
  const options = parseCommandLine(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return;
  }
  const { params, out, counts: countsPath, threads } = options;
  const pool = new RenderPool({ threads });
  try {
    const started = performance.now();
    const outcome = await renderPng(pool, params);
    await writeFile(out, outcome.png);
    if (countsPath) {
      const bytes = Buffer.from(outcome.counts.buffer, outcome.counts.byteOffset, outcome.counts.byteLength);
      await writeFile(countsPath, endianness() === "LE" ? bytes : Buffer.from(bytes).swap32());
    }
    let sum = 0;
    for (const count of outcome.counts) sum += count;
    const totalMs = performance.now() - started;
    console.log(
      `${params.width}x${params.height} depth ${params.depth} c=${params.re}${params.im < 0 ? "" : "+"}${params.im}i: ` +
        `${outcome.iterations} iterations, sum of counts ${sum}, render ${outcome.wallMs.toFixed(0)} ms ` +
        `(cpu ${outcome.cpuMs.toFixed(0)} ms, ${pool.threads} threads), total ${totalMs.toFixed(0)} ms -> ${out}` +
        (countsPath ? `, counts -> ${countsPath}` : ""),
    );
  } finally {
    await pool.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`render: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  console.error(`render: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
