/**
 * UploadThing's file routes take sizes as powers of two ("64MB"): the largest
 * one within UPLOAD_MAX_BYTES (100 MB by default gives 64MB), and its bytes,
 * which the upload page announces and checks before sending.
 */
export function uploadThingFileSize(maxBytes: number) {
  const units = [
    ["GB", 1024 ** 3],
    ["MB", 1024 ** 2],
    ["KB", 1024],
    ["B", 1],
  ] as const;
  const [unit, unitBytes] = units.find(([, bytes]) => maxBytes >= bytes) ?? units[3];
  const count = 2 ** Math.floor(Math.log2(maxBytes / unitBytes));
  return { size: `${count}${unit}` as "64MB", bytes: count * unitBytes };
}
