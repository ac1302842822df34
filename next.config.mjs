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
  // Environment is validated by lib/env.ts when the server starts (instrumentation.ts), so builds need no secrets.
};

export default nextConfig;
