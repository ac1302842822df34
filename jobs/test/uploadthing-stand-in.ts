/**
 * A local stand-in for UploadThing's servers, which tests cannot reach: the
 * ingest (presigned PUTs, then the signed completion callback to our route),
 * the file host (ufsUrl) and the REST API (deleteFiles). It follows what
 * uploadthing@7.7.4's own client and server SDK send and expect; see docs/guides/uploads.md.
 */
import { createHmac, randomBytes } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

export const sign = (payload: string, apiKey: string) => `hmac-sha256=${createHmac("sha256", apiKey).update(payload).digest("hex")}`;

export function fakeUploadThingToken() {
  const apiKey = `sk_test_${randomBytes(16).toString("hex")}`;
  const appId = "longruntest";
  const token = Buffer.from(JSON.stringify({ apiKey, appId, regions: ["local1"] })).toString("base64");
  return { apiKey, appId, token };
}

type RouteMetadata = { fileKeys: string[]; metadata: unknown; callbackUrl: string; callbackSlug: string };
export type StandInCall = { method: string; path: string; body: unknown };

export async function startUploadThingStandIn({ apiKey, appId }: { apiKey: string; appId: string }) {
  const calls: StandInCall[] = [];
  const metadataByKey = new Map<string, RouteMetadata>();
  const files = new Map<string, Buffer>();
  const serverDataByKey = new Map<string, unknown>();

  const respond = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url!, base);
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const raw = Buffer.concat(parts);
    const body: unknown = request.headers["content-type"]?.includes("json") && raw.length ? JSON.parse(raw.toString()) : null;
    calls.push({ method: request.method!, path: url.pathname, body });
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(value));
    };

    if (request.method === "POST" && url.pathname === "/route-metadata") {
      const metadata = body as RouteMetadata;
      for (const key of metadata.fileKeys) metadataByKey.set(key, metadata);
      return reply(200, { ok: true });
    }
    if (request.method === "POST" && url.pathname === "/callback-result") {
      // What onUploadComplete returned, which the ingest hands to the browser as serverData.
      const { fileKey, callbackData } = body as { fileKey: string; callbackData: unknown };
      serverDataByKey.set(fileKey, callbackData);
      return reply(200, { ok: true });
    }
    if (request.method === "POST" && url.pathname === "/v6/deleteFiles") {
      const { fileKeys } = body as { fileKeys: string[] };
      for (const key of fileKeys) files.delete(key);
      return reply(200, { success: true, deletedCount: fileKeys.length });
    }
    if (request.method === "GET" && url.pathname.startsWith("/f/")) {
      const bytes = files.get(url.pathname.slice(3));
      if (!bytes) return reply(404, { error: "not found" });
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
      return response.end(bytes);
    }
    if (request.method === "PUT") {
      // The ingest: check the presigned URL's signature, keep the bytes, call our route back as UploadThing does.
      const key = url.pathname.slice(1);
      const signature = url.searchParams.get("signature");
      url.searchParams.delete("signature");
      if (signature !== sign(url.toString(), apiKey)) return reply(403, { error: "bad presigned signature" });
      const form = await new Response(raw, { headers: { "content-type": request.headers["content-type"]! } }).formData();
      const file = form.get("file") as File;
      files.set(key, Buffer.from(await file.arrayBuffer()));
      const metadata = metadataByKey.get(key)!;
      const ufsUrl = `${base}/f/${key}`;
      const payload = JSON.stringify({
        status: "uploaded",
        metadata: metadata.metadata,
        origin: base,
        file: {
          name: decodeURIComponent(url.searchParams.get("x-ut-file-name")!),
          size: file.size,
          type: decodeURIComponent(url.searchParams.get("x-ut-file-type")!),
          customId: null,
          key,
          url: ufsUrl,
          appUrl: `${base}/a/${appId}/${key}`,
          ufsUrl,
          fileHash: "not-computed",
          lastModified: Date.now(),
        },
      });
      const callback = await deliverCallback(`${metadata.callbackUrl}?slug=${metadata.callbackSlug}`, payload, sign(payload, apiKey));
      if (!callback.ok) return reply(502, { error: `callback answered ${callback.status}` });
      return reply(200, { url: ufsUrl, appUrl: ufsUrl, ufsUrl, fileHash: "not-computed", serverData: serverDataByKey.get(key) ?? null });
    }
    reply(404, { error: `stand-in has no ${request.method} ${url.pathname}` });
  };
  // A request the stand-in fails on is a 500 the test sees, not an unhandled rejection.
  const server = http.createServer((request, response) => {
    respond(request, response).catch((error: unknown) => {
      console.error("[uploadthing stand-in]", error);
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: String(error) }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, calls, files, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The completion callback exactly as UploadThing's servers send it. */
export function deliverCallback(url: string, payload: string, signature: string) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "uploadthing-hook": "callback", "x-uploadthing-signature": signature },
    body: payload,
  });
}
