import { describe, expect, it } from "vitest";
import { createNonce, pageContentSecurityPolicy } from "./content-security-policy";

describe("page Content-Security-Policy", () => {
  it("allows only scripts with the nonce, no inline or eval scripts in production, and no framing", () => {
    const policy = pageContentSecurityPolicy({ nonce: "abc123", isDevelopment: false, usesUploadThing: false });
    const scriptSrc = policy.split("; ").find((directive) => directive.startsWith("script-src "));
    expect(scriptSrc).toBe("script-src 'self' 'nonce-abc123' 'strict-dynamic'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    expect(policy).toContain("connect-src 'self';");
  });

  it("adds eval in development and UploadThing's hosts when uploads go there", () => {
    const policy = pageContentSecurityPolicy({ nonce: "n", isDevelopment: true, usesUploadThing: true });
    expect(policy).toContain("script-src 'self' 'nonce-n' 'strict-dynamic' 'unsafe-eval'");
    expect(policy).toContain("connect-src 'self' https://*.ingest.uploadthing.com https://api.uploadthing.com");
  });

  it("makes a fresh nonce each time", () => {
    expect(createNonce()).not.toBe(createNonce());
    expect(createNonce()).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});
