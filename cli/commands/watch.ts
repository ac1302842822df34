import { expectPositionals, parseId } from "../args";
import { defineCommand } from "../command";
import { reportFinishedJob, waitForJob } from "../jobs";

const usage = `usage: longrun watch ID [--output PATH] [--json]

Follows a render or an upload until it has finished (a progress bar when stderr
is a terminal). A succeeded render's PNG is then saved (in the current
directory, or --output: a file or a directory) and its path printed; an
upload's final state is printed (id, status, md5, type, name).
Exits 1 when the job failed or was cancelled. Ctrl-C stops watching, not the job.`;

export const watch = defineCommand({
  name: "watch",
  summary: "Follow a job until it finishes, then save the PNG or show the upload",
  usage,
  options: { output: { type: "string", short: "o" } },
  async run(context, { values, positionals }) {
    expectPositionals(positionals, 1, usage);
    const id = parseId(positionals[0], usage);
    const client = await context.client();
    const job = await waitForJob(context, client, id);
    return reportFinishedJob(context, client, job, values.output);
  },
});
