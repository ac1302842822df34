/**
 * Deletes a file at UploadThing (after its upload row is gone); UTApi reads UPLOADTHING_TOKEN.
 * Loaded on first use: uploadthing/server (with its effect runtime) is about 40 MB of memory,
 * which a worker that never deletes an UploadThing file should not carry.
 */
export async function deleteUploadThingFile(key: string) {
  const { UTApi } = await import("uploadthing/server");
  await new UTApi().deleteFiles(key);
}
