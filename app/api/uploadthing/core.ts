import { createUploadthing, type FileRouter } from "uploadthing/next";
import { UploadThingError } from "uploadthing/server";
import { db } from "@/db";
import { checkStorageRoom, StorageQuotaError } from "@/db/queries/storage-usage";
import { acceptUpload } from "@/db/queries/uploads";
import { deleteUploadThingFile } from "@/db/storage/uploadthing";
import { getRequestUser } from "@/server/auth/guards";
import { getUploadEnv } from "@/lib/env";
import { uploadThingFileSize } from "@/lib/uploads/uploadthing-limit";
import { parseDeclaredType, uploadNameSchema } from "@/lib/validation/upload";

const f = createUploadthing();

/**
 * With UPLOADTHING_TOKEN set, browsers send bytes straight to UploadThing;
 * their servers then call onUploadComplete (signed with our key), which
 * accepts the upload exactly as our own upload route does: the row and its
 * processing jobs in one transaction. Workers fetch the bytes from ufsUrl.
 */
export const uploadRouter = {
  files: f({ blob: { maxFileSize: uploadThingFileSize(getUploadEnv().UPLOAD_MAX_BYTES).size, maxFileCount: 20 } })
    .middleware(async ({ req, files }) => {
      const user = await getRequestUser(req);
      // UploadThingError is an Error (Effect's tagged error underneath), which its types do not show.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (!user) throw new UploadThingError({ code: "FORBIDDEN", message: "Sign in to continue" });
      // Refused before any byte travels when the declared sizes cannot fit; acceptance checks again.
      const needed = { bytes: files.reduce((sum, file) => sum + file.size, 0), files: files.length };
      await checkStorageRoom(db, { ownerId: user.id, needed }).catch((error: unknown) => {
        throw error instanceof StorageQuotaError ? new UploadThingError({ code: "TOO_LARGE", message: error.message }) : error;
      });
      return { userId: user.id };
    })
    .onUploadComplete(async ({ metadata, file }) => {
      const name = uploadNameSchema.safeParse(file.name);
      try {
        const upload = await acceptUpload(db, {
          ownerId: metadata.userId,
          name: name.success ? name.data : "unnamed",
          size: file.size,
          storage: "uploadthing",
          storageKey: file.key,
          storageUrl: file.ufsUrl,
          declaredType: parseDeclaredType(file.type),
        });
        return { uploadId: upload.id, error: null };
      } catch (error) {
        if (!(error instanceof StorageQuotaError)) throw error;
        // Other uploads took the room since the middleware's check: their copy goes, and the browser is told why.
        await deleteUploadThingFile(file.key).catch((failure) => console.error("UploadThing delete failed", file.key, failure));
        return { uploadId: null, error: error.message };
      }
    }),
} satisfies FileRouter;

export type UploadRouter = typeof uploadRouter;
