import type { Database } from "@/db/client";
import { getUpload, type UploadView } from "@/db/queries/uploads";
import { waitFor } from "@/db/test/wait-for";

/** The upload once every processing step has ended, as its owner sees it. */
export async function waitForProcessedUpload(db: Database, ownerId: string, id: string): Promise<UploadView> {
  const view = await waitFor(
    () => getUpload(db, { id, ownerId }),
    (candidate) => candidate?.isProcessed === true,
  );
  if (!view) throw new Error(`no upload ${id}`);
  return view;
}
