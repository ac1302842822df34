import type { RenderView } from "@/lib/api/schemas";
import { expectPositionals, parseId } from "../args";
import { defineCommand } from "../command";
import { EXIT } from "../errors";
import { getJob, requireKind } from "../jobs";

const usage = `usage: longrun cancel ID [--json]

Cancels a queued or running render: a queued one never starts, a running one
stops at its next band. A render that has already finished is a conflict
(exit 3). Uploads' processing cannot be cancelled.`;

export const cancel = defineCommand({
  name: "cancel",
  summary: "Cancel a queued or running render",
  usage,
  options: {},
  async run(context, { positionals }) {
    expectPositionals(positionals, 1, usage);
    const id = parseId(positionals[0], usage);
    const client = await context.client();
    requireKind(await getJob(client, id), "render", "only renders can be cancelled (delete an upload on its page)");
    const { body: cancelled } = await client.json<RenderView>("DELETE", `/api/v1/renders/${id}`);
    context.printJson(cancelled);
    context.print(`render ${cancelled.id}: ${cancelled.status}`);
    return EXIT.ok;
  },
});
