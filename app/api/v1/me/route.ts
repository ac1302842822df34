import { db } from "@/db";
import { getStorageUsage } from "@/db/queries/storage-usage";
import { apiJson } from "@/server/api/respond";
import { withApiToken } from "@/server/auth/guards";

/** Who a token belongs to (what `longrun login` checks a token with), and what their files use of their storage quota. */
export const GET = withApiToken(async (_request, { user }) => {
  const { bytes, maxBytes, files, maxFiles } = await getStorageUsage(db, { ownerId: user.id });
  return apiJson({ id: user.id, email: user.email, tier: user.tier, storage: { bytes, maxBytes, files, maxFiles } });
});
