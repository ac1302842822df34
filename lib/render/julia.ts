// The pure renderer: the kernel lives in kernel.mjs (plain JavaScript) so that the
// render threads run the very same function without a TypeScript loader.
import { computeRows } from "./kernel.mjs";
import type { JuliaParams } from "./kernel.mjs";

export { computeRows };
export type { JuliaParams };

/** Renders a whole image on the calling thread; returns the counts and their sum. */
export function computeImage(params: JuliaParams): { counts: Uint32Array; iterations: number } {
  const counts = new Uint32Array(params.width * params.height);
  const iterations = computeRows(params, 0, params.height, counts);
  return { counts, iterations };
}

/**
 * Throws a RangeError unless the params can be rendered at all (sizes and depth
 * are integers, numbers are finite). The limits a person may choose (sizes 16..4096,
 * depth 1..5000) are enforced at the boundaries, by lib/validation.
 */
export function assertRenderable(params: JuliaParams): void {
  const { width, height, depth } = params;
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 65536)
      throw new RangeError(`${name} must be an integer in 1..65536, got ${value}`);
  }
  if (width * height > 2 ** 28) throw new RangeError(`width * height must be at most 2^28 pixels, got ${width * height}`);
  if (!Number.isInteger(depth) || depth < 0 || depth > 2 ** 31 - 1)
    throw new RangeError(`depth must be a non-negative 32-bit integer, got ${depth}`);
  for (const key of ["re", "im", "zoom", "cx", "cy"] as const) {
    if (!Number.isFinite(params[key])) throw new RangeError(`${key} must be a finite number, got ${params[key]}`);
  }
  if (params.zoom === 0) throw new RangeError("zoom must not be 0");
}
