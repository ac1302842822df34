import { db } from "@/db";
import { listUploads } from "@/db/queries/uploads";
import { withRateLimitedUser, withUser } from "@/server/auth/guards";
import { jsonWithEtag } from "@/lib/http";
import { receiveUpload } from "@/server/upload-request";

/** The person's files with their processing steps: what the uploads page polls. */
export const GET = withUser(async (request, { user }) => {
  const uploads = await listUploads(db, { ownerId: user.id });
  return jsonWithEtag(request, { uploads });
});

/** Upload to the local store (see receiveUpload): answers 201 with the upload's id; counted like an API request. */
export const POST = withRateLimitedUser(async (request, { user }) =>
  receiveUpload(request, {
    ownerId: user.id,
    key: null,
    respond: async (_tx, id) => ({ status: 201, body: { id }, location: `/uploads/${id}` }),
  }),
);
