import path from "node:path";

/**
 * Sample files shipped with the app (lib/datasets/files), the same for every
 * signed-in person and read-only: processing one copies it into the person's
 * own files, where it goes through the same pipeline as an upload.
 */
export const DATASETS = [
  { id: "julia-set", file: "julia-set.png", type: "image/png", description: "A 512x512 Julia set rendered by Longrun" },
  { id: "rotated-photo", file: "rotated-photo.jpg", type: "image/jpeg", description: "A photo stored sideways with an EXIF orientation" },
  { id: "measurements", file: "measurements.csv", type: "text/csv", description: "Three sensors every 15 minutes for four days" },
  { id: "report", file: "report.pdf", type: "application/pdf", description: "A one-page PDF report" },
] as const;

export type Dataset = (typeof DATASETS)[number];

export const findDataset = (id: string): Dataset | undefined => DATASETS.find((dataset) => dataset.id === id);

/** Where a dataset's bytes are: next.config.mjs traces this folder into the server build. */
export const datasetPath = (dataset: Dataset) => path.join(process.cwd(), "lib", "datasets", "files", dataset.file);
