import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { watchSourceInputSchema } from "@/lib/validation/watched-source";
import { assertFetchableUrl, isPublicAddress, publicOnlyFetch, SourceFetchError, sourceUploadName } from "./fetch-source";

describe("isPublicAddress", () => {
  it("refuses loopback, private, link-local, unspecified and multicast addresses, in every spelling", () => {
    for (const address of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:a9fe:a9fe",
      "64:ff9b::10.0.0.1",
      "not an address",
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it("allows public addresses", () => {
    for (const address of ["93.184.216.34", "2606:4700::1", "8.8.8.8", "172.32.0.1", "64:ff9b::5db8:d822"])
      expect(isPublicAddress(address), address).toBe(true);
  });
});

describe("assertFetchableUrl", () => {
  const refusal = (url: string, allowPrivateHosts = false) =>
    assertFetchableUrl(new URL(url), { allowPrivateHosts }).then(
      () => null,
      (error: Error) => error.message,
    );

  it("refuses literal private hosts however the URL writes them, without a request", async () => {
    expect(await refusal("http://127.0.0.1:8080/x")).toBe("127.0.0.1 is a private or local address; only public hosts are fetched");
    expect(await refusal("http://2130706433/")).toMatch(/^127\.0\.0\.1 is a private/); // the URL parser normalises it
    expect(await refusal("http://[::1]/")).toMatch(/^::1 is a private/);
    expect(await refusal("http://[::ffff:169.254.169.254]/latest/meta-data")).toMatch(/is a private or local address/);
  });

  it("resolves names and refuses one that points at a local address", async () => {
    expect(await refusal("http://localhost:3000/")).toMatch(/^localhost \((127\.0\.0\.1|::1)\) is a private or local address/);
  });

  it("allows public addresses, and private ones only when told to; never other schemes", async () => {
    expect(await refusal("https://93.184.216.34/file.csv")).toBeNull();
    expect(await refusal("http://[2606:4700::1]/")).toBeNull();
    expect(await refusal("http://127.0.0.1/", true)).toBeNull();
    expect(await refusal("file:///etc/passwd", true)).toBe("file: URLs are not fetched, only http(s)");
  });
});

describe("watchSourceInputSchema", () => {
  const messages = (input: Record<string, unknown>) => {
    const parsed = watchSourceInputSchema.safeParse(input);
    return parsed.success ? undefined : z.flattenError(parsed.error).fieldErrors;
  };

  it("accepts an http(s) URL and an allowed interval; normalises the URL and drops its fragment", () => {
    expect(watchSourceInputSchema.parse({ url: "  HTTPS://Example.COM/data/report.csv?v=1#top ", intervalMinutes: "15" })).toEqual({
      url: "https://example.com/data/report.csv?v=1",
      intervalMinutes: 15,
      isShared: false,
    });
  });

  it("reads the 'For everyone' checkbox: ticked is 'on', absent is unticked, anything else is refused", () => {
    const input = { url: "https://example.com/a.csv", intervalMinutes: "60" };
    expect(watchSourceInputSchema.parse({ ...input, isShared: "on" }).isShared).toBe(true);
    expect(watchSourceInputSchema.safeParse({ ...input, isShared: "yes" }).success).toBe(false);
  });

  it("says what is wrong with a URL", () => {
    for (const url of [
      "",
      "example.com/feed.xml",
      "ftp://example.com/x",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "http://",
      undefined,
    ]) {
      expect(messages({ url, intervalMinutes: "60" })?.url, String(url)).toEqual(["Enter an http(s) URL"]);
    }
    expect(messages({ url: "https://user:secret@example.com/", intervalMinutes: "60" })?.url).toEqual([
      "Leave the user name and password out of the URL",
    ]);
    expect(messages({ url: `https://example.com/${"x".repeat(2048)}`, intervalMinutes: "60" })?.url).toEqual([
      "URLs are limited to 2048 characters",
    ]);
  });

  it("allows only the offered intervals", () => {
    for (const intervalMinutes of ["1", "30", "", "often", undefined]) {
      expect(messages({ url: "https://example.com/", intervalMinutes })?.intervalMinutes, String(intervalMinutes)).toEqual([
        "Choose how often",
      ]);
    }
  });
});

describe("sourceUploadName", () => {
  it("names a version after the URL's last path segment, or its host", () => {
    expect(sourceUploadName("https://example.com/data/report%20May.csv?v=2")).toBe("report May.csv");
    expect(sourceUploadName("https://example.com/feeds/news/")).toBe("news");
    expect(sourceUploadName("https://example.com/")).toBe("example.com");
    expect(sourceUploadName("https://example.com/a%E2%80%AEgnp.exe")).toBe("a_gnp.exe"); // sanitised like any upload name
    expect(sourceUploadName("https://example.com/100%25%zz")).toBe("100%25%zz"); // undecodable: kept as written
  });
});

describe("publicOnlyFetch", () => {
  it("refuses, when it connects, a host that resolves to a private address (a DNS answer that changed after the check)", async () => {
    let requests = 0;
    const server = http.createServer((_request, response) => {
      requests++;
      response.end("secret");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await publicOnlyFetch(`http://localhost:${port}/`).catch((caught: Error) => caught);
      expect((error as Error).cause).toBeInstanceOf(SourceFetchError);
      expect(((error as Error).cause as Error).message).toMatch(/^localhost \((127\.0\.0\.1|::1)\) is a private or local address/);
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });
});
