/**
 * The Content-Security-Policy of every page: scripts only from our origin and
 * with this response's nonce (Next puts it on its own scripts when it finds it in
 * the request's CSP header), 'strict-dynamic' so those scripts may load the
 * app's chunks. Styles may be inline: Tailwind classes aside, React style props
 * (progress bars) and sonner's toasts set them, and a style cannot run code.
 */
export function pageContentSecurityPolicy(args: { nonce: string; isDevelopment: boolean; usesUploadThing: boolean }) {
  const directives = [
    "default-src 'self'",
    // React rebuilds server error stacks with eval in development only.
    `script-src 'self' 'nonce-${args.nonce}' 'strict-dynamic'${args.isDevelopment ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    // With a token, browsers send upload bytes straight to UploadThing's ingest servers.
    `connect-src 'self'${args.usesUploadThing ? " https://*.ingest.uploadthing.com https://api.uploadthing.com" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  return directives.join("; ");
}

export const createNonce = () => Buffer.from(crypto.randomUUID()).toString("base64");
