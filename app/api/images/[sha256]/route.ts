import { z } from "zod";
import { db } from "@/db";
import { getOwnedImage } from "@/db/queries/results";
import { withUser } from "@/server/auth/guards";
import { notFound } from "@/lib/errors";
import { FILE_RESPONSE_HEADERS, isSafeInlineImageType } from "@/lib/http";

// Content-addressed: a given URL never changes, so browsers may keep it for a year.
const imageParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const GET = withUser({ params: imageParams, notFound: "No such image" }, async (request, { user, params }) => {
  const etag = `"${params.sha256}"`;
  const cacheHeaders = { "Cache-Control": "private, max-age=31536000, immutable", ETag: etag };
  const image = await getOwnedImage(db, { sha256: params.sha256, ownerId: user.id });
  // Shown inline by <img>: only raster types a browser cannot run (never SVG or HTML).
  if (!image || !isSafeInlineImageType(image.contentType)) return notFound("No such image");
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers: cacheHeaders });
  return new Response(new Uint8Array(image.data), {
    headers: { ...cacheHeaders, "Content-Type": image.contentType, "Content-Length": String(image.size), ...FILE_RESPONSE_HEADERS },
  });
});
