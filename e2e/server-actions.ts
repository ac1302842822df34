import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";

/** The build's server actions: id, file and exported name (the same manifest Next routes them by). */
export function builtActions() {
  const manifest = JSON.parse(readFileSync(path.join(process.cwd(), ".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { filename: string; exportedName: string }>;
  };
  return Object.entries(manifest.node).map(([id, entry]) => ({
    id,
    key: `${entry.filename}#${entry.exportedName}`,
  }));
}

/** A form argument of a server action: its fields (a list is a field sent several times, a Blob a file). */
export type Form = { form: Record<string, string | string[] | Blob> };

/**
 * Calls a server action the way React's client does (encodeReply): JSON args, or a multipart body when one is a form.
 * `path` is the page it is posted to (any page finds the action by its id); `headers` go along.
 */
export function callAction(
  request: APIRequestContext,
  actionId: string,
  args: unknown[],
  origin: string,
  options: { path?: string; headers?: Record<string, string> } = {},
) {
  const { path = "/configurations" } = options;
  const headers = { "Next-Action": actionId, Accept: "text/x-component", Origin: origin, ...options.headers };
  const formIndex = args.findIndex((arg) => typeof arg === "object" && arg !== null && "form" in arg);
  if (formIndex === -1) {
    return request.post(path, { headers: { ...headers, "Content-Type": "text/plain;charset=UTF-8" }, data: JSON.stringify(args) });
  }
  // The root ("0") goes last, as React sends it: the server resolves the form's fields when it reads the root.
  const multipart = new FormData();
  for (const [name, value] of Object.entries((args[formIndex] as Form).form)) {
    for (const each of Array.isArray(value) ? value : [value]) multipart.append(`_1_${name}`, each);
  }
  multipart.append("0", JSON.stringify(args.map((arg, index) => (index === formIndex ? "$K1" : arg))));
  return request.post(path, { headers, multipart, maxRedirects: 0 });
}

/**
 * A value as React's client encodes an action argument (encodeReply), for JSON.stringify: a string
 * starting with "$" gets a second "$" (sent raw, "$t…" reads as a reference, and Next answers the
 * malformed encoding with a 500 before the action runs); undefined, NaN, ±Infinity, -0 and BigInt
 * get their "$" forms.
 */
export function asReplyValue(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith("$") ? `$${value}` : value;
  if (typeof value === "number") {
    if (Object.is(value, -0)) return "$-0";
    if (Number.isNaN(value)) return "$NaN";
    if (!Number.isFinite(value)) return value > 0 ? "$Infinity" : "$-Infinity";
    return value;
  }
  if (typeof value === "bigint") return `$n${value}`;
  if (value === undefined) return "$undefined";
  if (Array.isArray(value)) return value.map(asReplyValue);
  if (value !== null && typeof value === "object") {
    // defineProperty keeps a "__proto__" key an own key, as JSON.parse does on the server.
    const encoded: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value))
      Object.defineProperty(encoded, key, { value: asReplyValue(entry), enumerable: true, writable: true, configurable: true });
    return encoded;
  }
  return value;
}
