import { createUploadthing, type FileRouter } from "uploadthing/next";
import { UploadThingError } from "uploadthing/server";
import { db } from "@/db";
import { acceptUpload } from "@/db/queries/uploads";
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
    .middleware(async ({ req }) => {
      const user = await getRequestUser(req);
      // UploadThingError is an Error (Effect's tagged error underneath), which its types do not show.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (!user) throw new UploadThingError({ code: "FORBIDDEN", message: "Sign in to continue" });
      return { userId: user.id };
    })
    .onUploadComplete(async ({ metadata, file }) => {
      const name = uploadNameSchema.safeParse(file.name);
      const upload = await acceptUpload(db, {
        ownerId: metadata.userId,
        name: name.success ? name.data : "unnamed",
        size: file.size,
        storage: "uploadthing",
        storageKey: file.key,
        storageUrl: file.ufsUrl,
        declaredType: parseDeclaredType(file.type),
      });
      return { uploadId: upload.id };
    }),
} satisfies FileRouter;

export type UploadRouter = typeof uploadRouter;
