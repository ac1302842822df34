/**
 * Security headers every response carries. Pages get their nonce-based
 * Content-Security-Policy from proxy.ts, which overrides the fallback below;
 * API routes and static files never pass through the proxy (status polls are
 * latency-critical), so theirs are static. Keep in step with lib/content-security-policy.ts.
 */
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Cross-Origin-Resource-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
  // Browsers ignore it over plain http (local use), and keep to https once they saw it there.
  { key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" },
  // Data, files and anything the proxy did not see: nothing may load, run or frame it.
  { key: "Content-Security-Policy", value: "default-src 'none'; frame-ancestors 'none'; sandbox" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // A self-contained server (.next/standalone/server.js) with only the files it needs:
  // what containers, `npm start` and the e2e suite run. Vercel ignores it.
  output: "standalone",
  // Native modules stay out of the bundle; the web never loads the renderer or sharp.
  serverExternalPackages: ["@node-rs/argon2", "prom-client"],
  // The sample datasets are read from disk by the server action that imports them.
  outputFileTracingIncludes: { "/uploads": ["./lib/datasets/files/**"] },
  headers: async () => [{ source: "/:path*", headers: securityHeaders }],
  // Environment is validated by lib/env.ts when the server starts (instrumentation.ts), so builds need no secrets.
};

export default nextConfig;
