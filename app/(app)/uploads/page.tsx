import { stat } from "node:fs/promises";
import { db } from "@/db";
import { listSharedFiles, listUploads } from "@/db/queries/uploads";
import { listWatchedSources } from "@/db/queries/watched-sources";
import { DatasetList } from "@/components/uploads/dataset-list";
import { UploadDropzone } from "@/components/uploads/upload-dropzone";
import { UploadList } from "@/components/uploads/upload-list";
import { WatchedSources } from "@/components/uploads/watched-sources";
import { requireUser } from "@/server/auth/guards";
import { datasetPath, DATASETS } from "@/lib/datasets";
import { getWebEnv } from "@/lib/env";
import { uploadThingFileSize } from "@/lib/uploads/uploadthing-limit";

export const metadata = { title: "Uploads" };

export default async function UploadsPage() {
  const user = await requireUser();
  const env = getWebEnv();
  const [uploads, sources, datasets, shared] = await Promise.all([
    listUploads(db, { ownerId: user.id }),
    listWatchedSources(db, { ownerId: user.id }),
    Promise.all(DATASETS.map(async (dataset) => ({ ...dataset, size: (await stat(datasetPath(dataset))).size }))),
    listSharedFiles(db),
  ]);
  const canShare = user.role === "admin";
  return (
    <div className="space-y-8">
      <h1 className="text-2xl font-semibold">Uploads</h1>
      <UploadDropzone
        backend={env.UPLOADTHING_TOKEN ? "uploadthing" : "local"}
        maxBytes={env.UPLOADTHING_TOKEN ? uploadThingFileSize(env.UPLOAD_MAX_BYTES).bytes : env.UPLOAD_MAX_BYTES}
      />
      <section className="space-y-3">
        <h2 className="text-lg font-medium">Your files</h2>
        <UploadList initial={uploads} />
      </section>
      <section className="space-y-3">
        <h2 className="text-lg font-medium">Watched sources</h2>
        <WatchedSources sources={sources} canShare={canShare} />
      </section>
      <section className="space-y-3">
        <h2 className="text-lg font-medium">Sample datasets</h2>
        <DatasetList kind="sample" datasets={datasets.map(({ id, file, description, size }) => ({ id, file, description, size }))} />
      </section>
      {shared.length > 0 && (
        <section className="space-y-3">
          <h2 className="text-lg font-medium">Shared files</h2>
          <DatasetList
            kind="shared"
            datasets={shared.map((file) => ({
              id: file.id,
              file: file.name,
              description: `${file.detectedType ?? "Processing"} · ${new Date(file.createdAt).toLocaleString()}`,
              size: file.size,
              downloadUrl: `/api/uploads/${file.id}/download`,
            }))}
          />
        </section>
      )}
    </div>
  );
}
