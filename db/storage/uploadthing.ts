import { UTApi } from "uploadthing/server";

/** Deletes a file at UploadThing (after its upload row is gone); UTApi reads UPLOADTHING_TOKEN. */
export async function deleteUploadThingFile(key: string) {
  await new UTApi().deleteFiles(key);
}
