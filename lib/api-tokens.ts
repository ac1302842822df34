import { createHash, randomBytes } from "node:crypto";

const TOKEN_PREFIX = "lr_";

/** A new token: "lr_" and 256 random bits, base64url. Shown to its owner once. */
export function generateApiToken() {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashApiToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 4) };
}

export const hashApiToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** The token of an `Authorization: Bearer …` header, if it has one of ours. */
export function bearerToken(request: Request): string | null {
  const match = /^Bearer\s+(lr_[A-Za-z0-9_-]{43})$/.exec(request.headers.get("authorization") ?? "");
  return match?.[1] ?? null;
}
