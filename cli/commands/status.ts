import { expectPositionals, parseId } from "../args";
import { defineCommand } from "../command";
import { EXIT } from "../errors";
import { getJob, isFinished } from "../jobs";

const usage = `usage: longrun status ID [--json]

A render's or an upload's status, progress and message (GET /api/v1/jobs/ID).
Exits 0 whatever the job's status; use watch to wait for it.`;

export const status = defineCommand({
  name: "status",
  summary: "A render's or upload's status and progress",
  usage,
  options: {},
  async run(context, { positionals }) {
    expectPositionals(positionals, 1, usage);
    const id = parseId(positionals[0], usage);
    const job = await getJob(await context.client(), id);
    context.printJson(job);
    const percent = isFinished(job.status) ? "" : ` ${Math.round(job.progress * 100)}%`;
    context.print(`${job.kind} ${job.id}: ${job.status}${percent}${job.message ? ` (${job.message})` : ""}`);
    if (job.status === "succeeded") context.note(`Download it with: longrun download ${job.id}`);
    else if (!isFinished(job.status)) context.note(`Follow it with: longrun watch ${job.id}`);
    return EXIT.ok;
  },
});
