import { randomUUID } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import type { UploadApiView } from "@/lib/api/schemas";
import { defineCommand } from "../command";
import { EXIT, UsageError, type ExitCode } from "../errors";
import { contentTypeFor, formatBytes } from "../files";
import { reportFinishedJob, waitForJob } from "../jobs";
import { createProgress } from "../progress";

const usage = `usage: longrun upload FILE... [--wait] [--json]

Uploads each file, streamed (never read whole into memory), under its own name,
and prints its id. The server then checks it: md5, the type read from its bytes,
and a thumbnail for images. With --wait, waits for that and prints, per file:
id, status, md5, detected type, name (exit 1 if any file's processing failed).
Stops at the first file the server refuses (exit 3); the ids of files already
uploaded have been printed.`;

export const upload = defineCommand({
  name: "upload",
  summary: "Upload files (streamed); --wait for their md5 and type",
  usage,
  options: { wait: { type: "boolean" } },
  async run(context, { values, positionals }) {
    if (positionals.length === 0) throw new UsageError("Name at least one file to upload", usage);
    // Every file checked before the first byte is sent, so a typo uploads nothing.
    const files = await Promise.all(positionals.map((file) => readableFile(path.resolve(context.io.cwd, file), file)));
    const client = await context.client();

    const uploaded: UploadApiView[] = [];
    for (const file of files) {
      const progress = createProgress(context.io.stderr, `upload ${file.name}`, { quiet: true });
      let sent = 0;
      const body = async function* () {
        sent = 0;
        for await (const chunk of createReadStream(file.path)) {
          sent += (chunk as Buffer).length;
          progress.update(file.size === 0 ? 1 : sent / file.size, formatBytes(sent));
          yield chunk as Buffer;
        }
      };
      let created: UploadApiView;
      try {
        ({ body: created } = await client.json<UploadApiView>("POST", `/api/v1/uploads?name=${encodeURIComponent(file.name)}`, {
          body,
          headers: {
            "Content-Type": contentTypeFor(file.name),
            "Content-Length": String(file.size),
            // One key per file and invocation: a retry after a lost connection stores the file once.
            "Idempotency-Key": randomUUID(),
          },
          timeoutMs: null,
        }));
      } finally {
        progress.stop();
      }
      uploaded.push(created);
      context.note(`Uploaded ${file.name} (${formatBytes(file.size)}) as ${created.id}`);
      if (!values.wait) {
        context.printJson(created);
        context.print(created.id);
      }
    }
    if (!values.wait) return EXIT.ok;

    let exitCode: ExitCode = EXIT.ok;
    for (const created of uploaded) {
      const job = await waitForJob(context, client, created.id);
      const outcome = await reportFinishedJob(context, client, job, undefined);
      if (outcome !== EXIT.ok) exitCode = outcome;
    }
    return exitCode;
  },
});

async function readableFile(absolute: string, given: string) {
  const stats = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`Cannot upload ${given}: ${error.code === "ENOENT" ? "no such file" : error.message}`, usage);
  });
  if (!stats.isFile()) throw new UsageError(`Cannot upload ${given}: not a regular file`, usage);
  await access(absolute, constants.R_OK).catch(() => {
    throw new UsageError(`Cannot upload ${given}: not readable`, usage);
  });
  return { path: absolute, name: path.basename(absolute), size: stats.size };
}
