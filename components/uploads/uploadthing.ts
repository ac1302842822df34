import { generateReactHelpers } from "@uploadthing/react";
import type { UploadRouter } from "@/app/api/uploadthing/core";

/** UploadThing's client, typed by our file router (used only when a token is configured). */
export const { uploadFiles } = generateReactHelpers<UploadRouter>({ url: "/api/uploadthing" });
