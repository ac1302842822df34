import { db } from "@/db";
import { getResultDownload } from "@/db/queries/results";
import { withUser } from "@/lib/auth/guards";
import { errorResponse, notFound } from "@/lib/errors";
import { renderFileName } from "@/lib/download-name";
import { attachmentDisposition } from "@/lib/http";
import { idSchema } from "@/lib/validation/configuration";

export const GET = withUser<{ id: string }>(async (_request, { user, params }) => {
  if (!idSchema.safeParse(params.id).success) return notFound("No such render");
  const download = await getResultDownload(db, { resultId: params.id, ownerId: user.id });
  if (!download) return notFound("No such render");
  if (download.status !== "succeeded" || !download.data) {
    return errorResponse("conflict", `This render has no picture yet (${download.status})`);
  }
  return new Response(new Uint8Array(download.data), {
    headers: {
      "Content-Type": "image/png",
      "Content-Length": String(download.data.length),
      "Content-Disposition": attachmentDisposition(renderFileName(download.configurationName, download.params)),
      "Cache-Control": "private, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
    },
  });
});
