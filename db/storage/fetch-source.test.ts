import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { watchSourceInputSchema } from "@/lib/validation/watched-source";
import {
  assertFetchableUrl,
  createPublicOnlyLookup,
  isPublicAddress,
  machineAddresses,
  publicOnlyFetch,
  type ResolveHost,
  SourceFetchError,
  sourceUploadName,
} from "./fetch-source";

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

  it("refuses every IANA special-purpose range: documentation, benchmarking, protocol assignments, translation and tunnel prefixes", () => {
    for (const address of [
      "192.0.2.1", // TEST-NET-1, used for real hosts on some networks
      "198.51.100.7", // TEST-NET-2
      "203.0.113.9", // TEST-NET-3
      "198.18.0.1", // benchmarking, 198.18.0.0/15
      "198.19.255.254",
      "192.0.0.8", // IETF protocol assignments, 192.0.0.0/24
      "192.88.99.1", // 6to4 relay anycast
      "2001:db8::1", // documentation
      "3fff::1", // documentation, RFC 9637
      "2001:2::1", // benchmarking
      "64:ff9b:1::a00:1", // local-use NAT64, 64:ff9b:1::/48
      "64:ff9b:1::5db8:d822", // even carrying a public IPv4 address
      "2002:7f00:1::1", // 6to4
      "2002:5db8:d822::1",
      "2001::1", // Teredo
      "100::1", // discard-only, 100::/64
      "5f00::1", // segment routing
      "4000::1", // outside 2000::/3, not allocated for global unicast
      "::127.0.0.1", // IPv4-compatible
      "::7f00:1",
      "::10.0.0.1",
      "::ffff:0:127.0.0.1", // SIIT, RFC 6145
      "::ffff:0:192.0.2.1",
      "::ffff:192.0.2.1", // IPv4-mapped documentation address
      "64:ff9b::198.18.0.1", // NAT64 of a benchmarking address
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it("allows public addresses, also as NAT64, IPv4-mapped and IPv4-compatible forms of them", () => {
    for (const address of [
      "93.184.216.34",
      "2606:4700::1",
      "8.8.8.8",
      "172.32.0.1",
      "192.0.3.1",
      "198.20.0.1",
      "64:ff9b::5db8:d822",
      "::ffff:93.184.216.34",
      "::93.184.216.34",
    ])
      expect(isPublicAddress(address), address).toBe(true);
  });

  it("refuses the machine's own interface addresses, however they are written", () => {
    const ownAddresses = ["93.184.216.34", "2606:4700::1", "fe80::1"];
    for (const address of ["93.184.216.34", "::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2606:4700:0:0::1", "2606:4700::0001"])
      expect(isPublicAddress(address, ownAddresses), address).toBe(false);
    expect(isPublicAddress("93.184.216.35", ownAddresses)).toBe(true);
    // Without a list, the machine's real interfaces are used.
    for (const address of machineAddresses()) expect(isPublicAddress(address), address).toBe(false);
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

  it("refuses a name when any address a resolver gives for it is special-purpose, naming that address", async () => {
    const answers: Record<string, string[]> = {
      "docs.example": ["192.0.2.10"],
      "mixed.example": ["93.184.216.34", "198.18.0.1"],
      "tunnel.example": ["2002:a00:1::1"],
      "nat64.example": ["64:ff9b:1::a9fe:a9fe"],
      "public.example": ["93.184.216.34", "2606:4700::1"],
    };
    const stubResolver: ResolveHost = (hostname) => {
      const addresses = answers[hostname];
      if (!addresses) return Promise.reject(Object.assign(new Error("not found"), { code: "ENOTFOUND" }));
      return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
    };
    const refusalVia = (url: string) =>
      assertFetchableUrl(new URL(url), { allowPrivateHosts: false, resolveHost: stubResolver }).then(
        () => null,
        (error: Error) => error.message,
      );
    expect(await refusalVia("http://docs.example/")).toBe(
      "docs.example (192.0.2.10) is a private or local address; only public hosts are fetched",
    );
    expect(await refusalVia("http://mixed.example/")).toMatch(/^mixed\.example \(198\.18\.0\.1\) is a private/);
    expect(await refusalVia("http://tunnel.example/")).toMatch(/^tunnel\.example \(2002:a00:1::1\) is a private/);
    expect(await refusalVia("http://nat64.example/")).toMatch(/^nat64\.example \(64:ff9b:1::a9fe:a9fe\) is a private/);
    expect(await refusalVia("http://public.example/")).toBeNull();
    expect(await refusalVia("http://unknown.example/")).toBe("host not found (unknown.example)");
  });

  it("refuses literal special-purpose hosts as the issue's attacker wrote them", async () => {
    for (const url of [
      "http://192.0.2.1/",
      "http://198.18.0.1/",
      "http://192.0.0.1/",
      "http://[2001:db8::1]/",
      "http://[::127.0.0.1]/",
      "http://[::ffff:0:7f00:1]/",
      "http://[2002:7f00:1::]/",
      "http://[100::1]/",
      "http://[64:ff9b:1::7f00:1]/",
    ])
      expect(await refusal(url), url).toMatch(/is a private or local address; only public hosts are fetched$/);
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

  it("refuses at connect time what the resolver answers when it is special-purpose, before any connection", async () => {
    const stubResolver: ResolveHost = () => Promise.resolve([{ address: "198.18.0.1", family: 4 }]);
    const lookup = createPublicOnlyLookup(stubResolver);
    const error = await new Promise<Error | null>((resolve) => lookup("bench.example", { all: true }, (caught) => resolve(caught)));
    expect(error).toBeInstanceOf(SourceFetchError);
    expect(error?.message).toBe("bench.example (198.18.0.1) is a private or local address; only public hosts are fetched");
  });
});
