import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { createRenderSchema, RenderView } from "@/lib/api/schemas";
import { expectPositionals, parseId, parseInteger, parseNumber } from "../args";
import { defineCommand } from "../command";
import { EXIT, UsageError } from "../errors";
import { reportFinishedJob, waitForJob } from "../jobs";

type CreateRenderRequest = z.input<typeof createRenderSchema>;

const usage = `usage: longrun render --re N --im N [--depth N] [--width N] [--height N] [--zoom N]
                      [--cx N] [--cy N] [--colormap NAME] [--name NAME] [--configuration ID]
                      [--wait [--output PATH]] [--json]

Starts a render of the Julia set for c = re + im·i. Settings left out take the
web form's defaults; the server checks ranges and your tier's limits.
Prints the render's id, or with --wait follows its progress and saves the PNG
(in the current directory, or --output: a file or a directory) and prints its path.
  --configuration ID   render into that configuration (its unfinished render is superseded)
  --name NAME          the name of the new configuration (default "API render")`;

const NUMBER_OPTIONS = ["re", "im", "zoom", "cx", "cy"] as const;
const INTEGER_OPTIONS = ["depth", "width", "height"] as const;

/** The request body from the options: numbers checked here, so `--re abc` is a usage error and sends nothing. */
export function renderRequest(values: Partial<Record<string, string | boolean>>): CreateRenderRequest {
  const text = (name: string) => (typeof values[name] === "string" ? values[name] : undefined);
  if (text("re") === undefined || text("im") === undefined) throw new UsageError("--re and --im are required", usage);
  const body: Record<string, unknown> = {};
  for (const name of NUMBER_OPTIONS) if (text(name) !== undefined) body[name] = parseNumber(name, text(name)!, usage);
  for (const name of INTEGER_OPTIONS) if (text(name) !== undefined) body[name] = parseInteger(name, text(name)!, usage);
  if (text("colormap") !== undefined) body.colormap = text("colormap");
  if (text("name") !== undefined) body.name = text("name");
  if (text("configuration") !== undefined) body.configurationId = parseId(text("configuration"), usage);
  return body as CreateRenderRequest;
}

const stringOption = { type: "string" } as const;

export const render = defineCommand({
  name: "render",
  summary: "Start a render; --wait follows it and saves the PNG",
  usage,
  options: {
    re: stringOption,
    im: stringOption,
    depth: stringOption,
    width: stringOption,
    height: stringOption,
    zoom: stringOption,
    cx: stringOption,
    cy: stringOption,
    colormap: stringOption,
    name: stringOption,
    configuration: stringOption,
    wait: { type: "boolean" },
    output: { type: "string", short: "o" },
  },
  async run(context, { values, positionals }) {
    expectPositionals(positionals, 0, usage);
    const body = renderRequest(values);
    if (values.output !== undefined && !values.wait)
      throw new UsageError("--output needs --wait (or use longrun download ID --output PATH)", usage);
    const client = await context.client();
    // One key per invocation: the client's own retries of this POST cannot start a second render.
    const { status, body: started } = await client.json<RenderView>("POST", "/api/v1/renders", {
      json: body,
      headers: { "Idempotency-Key": randomUUID() },
    });
    const { width, height, depth } = started.params;
    const summary = `${width}x${height}, depth ${depth}`;
    if (!values.wait) {
      context.printJson(started);
      context.print(started.id);
      context.note(
        status === 200
          ? `These settings already have a finished render (${started.status}): ${started.id}`
          : `Render ${started.id} ${started.status} (${summary}). Follow it with: longrun watch ${started.id}`,
      );
      return EXIT.ok;
    }
    if (status === 200) context.note(`These settings already have a finished render (${started.status})`);
    const job = await waitForJob(context, client, started.id);
    return reportFinishedJob(context, client, job, values.output);
  },
});
