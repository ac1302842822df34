/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // Native modules stay out of the bundle; the web never loads the renderer or sharp.
  serverExternalPackages: ["@node-rs/argon2", "prom-client"],
  // Environment is validated at run time by lib/env.ts (lazily, so builds need no secrets).
};

export default nextConfig;
