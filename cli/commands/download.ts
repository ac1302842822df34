import { expectPositionals, parseId } from "../args";
import { defineCommand } from "../command";
import { EXIT } from "../errors";
import { formatBytes } from "../files";
import { downloadJob, getJob } from "../jobs";

const usage = `usage: longrun download ID [--output PATH] [--json]

Saves a succeeded render's PNG or an upload's original file, streamed to disk,
and prints its path. The name is the server's (made safe: it never leaves the
directory), in the current directory or the --output directory; an existing
file is not replaced ("name (1).png"), unless --output names that file.
With --json prints {"id", "kind", "file", "size"}.`;

export const download = defineCommand({
  name: "download",
  summary: "Save a render's PNG or an upload's original file",
  usage,
  options: { output: { type: "string", short: "o" } },
  async run(context, { values, positionals }) {
    expectPositionals(positionals, 1, usage);
    const id = parseId(positionals[0], usage);
    const client = await context.client();
    const job = await getJob(client, id);
    const saved = await downloadJob(context, client, job, values.output);
    context.printJson({ id: job.id, kind: job.kind, file: saved.path, size: saved.size });
    context.print(saved.path);
    context.note(`Saved ${formatBytes(saved.size)}`);
    return EXIT.ok;
  },
});
