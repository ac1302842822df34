import { NextResponse, type NextRequest } from "next/server";
import { createNonce, pageContentSecurityPolicy } from "@/lib/content-security-policy";
import { getUploadEnv } from "@/lib/env";

/**
 * A fresh CSP nonce for each page (Next's documented way: it reads the nonce from
 * the request's CSP header while rendering). Only pages pass through here: API
 * routes (status polls are latency-critical; uploads must not be buffered) and
 * static assets get their security headers statically from next.config.mjs.
 */
export function proxy(request: NextRequest) {
  const policy = pageContentSecurityPolicy({
    nonce: createNonce(),
    isDevelopment: process.env.NODE_ENV === "development",
    usesUploadThing: Boolean(getUploadEnv().UPLOADTHING_TOKEN),
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("Content-Security-Policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  matcher: [
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico).*)",
      // Prefetches are RSC payloads, not documents a browser renders.
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
