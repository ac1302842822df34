import type { UploadStepName } from "@/db/schema";

export const UPLOAD_STEP_LABELS: Record<UploadStepName, string> = { checksum: "Checksum", type: "Type", thumbnail: "Thumbnail" };
