import { createRouteHandler } from "uploadthing/next";
import type { NextRequest } from "next/server";
import { getUploadEnv } from "@/lib/env";
import { notFound } from "@/lib/errors";
import { uploadRouter } from "./core";

const handler = createRouteHandler({ router: uploadRouter });

/** UploadThing's endpoint (upload requests from browsers, completion callbacks from their servers); a 404 without a token. */
export async function GET(request: NextRequest) {
  return getUploadEnv().UPLOADTHING_TOKEN ? handler.GET(request) : notFound("Uploads go to the local store");
}

export async function POST(request: NextRequest) {
  return getUploadEnv().UPLOADTHING_TOKEN ? handler.POST(request) : notFound("Uploads go to the local store");
}
