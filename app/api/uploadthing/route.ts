import { createRouteHandler } from "uploadthing/next";
import type { NextRequest } from "next/server";
import { getUploadEnv } from "@/lib/env";
import { notFound } from "@/lib/errors";
import { withBodyLimit } from "@/server/api/body";
import { uploadRouter } from "./core";

const handler = createRouteHandler({ router: uploadRouter });

/** UploadThing's endpoint (upload requests from browsers, completion callbacks from their servers); a 404 without a token. */
export async function GET(request: NextRequest) {
  return getUploadEnv().UPLOADTHING_TOKEN ? handler.GET(request) : notFound("Uploads go to the local store");
}

/** Upload requests and completion callbacks are JSON listing a few files; the bytes themselves go to UploadThing. */
const UPLOADTHING_BODY_MAX_BYTES = 1024 * 1024;

export const POST = withBodyLimit(UPLOADTHING_BODY_MAX_BYTES, async (request) =>
  getUploadEnv().UPLOADTHING_TOKEN ? handler.POST(request) : notFound("Uploads go to the local store"),
);
