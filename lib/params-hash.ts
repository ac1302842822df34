import { createHash } from "node:crypto";
import type { RenderParams } from "@/lib/validation/configuration";

const KEYS = ["re", "im", "depth", "width", "height", "zoom", "cx", "cy", "colormap"] as const satisfies (keyof RenderParams)[];

/** A stable hash of what determines a picture: equal params, equal hash (key order fixed). */
export function hashRenderParams(params: RenderParams): string {
  const canonical = JSON.stringify(KEYS.map((key) => [key, params[key]]));
  return createHash("sha256").update(canonical).digest("hex");
}

export function pickRenderParams(params: RenderParams): RenderParams {
  return Object.fromEntries(KEYS.map((key) => [key, params[key]])) as RenderParams;
}
