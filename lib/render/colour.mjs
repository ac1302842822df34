// @ts-check
// Colouring escape counts, in plain JavaScript like the kernel, so that the render
// threads run it (a finished render is coloured there, in bands, at their low priority)
// and colorize() in colormaps.ts runs the very same function on the calling thread.

/** Entries in a colormap's lookup table (matplotlib's N). */
export const COLORMAP_ENTRIES = 256;

/**
 * Colours counts[start, end) into rgb[3 * start, 3 * end) as imsave does: Normalize
 * from the image's min to its max in float64 ((v - min) / (max - min), all 0 when
 * max == min), then the colormap's index trunc(x * 256), with x == 1 mapped to the
 * last entry. `lut` holds 3 bytes (R, G, B) per entry.
 *
 * @param {Uint32Array} counts
 * @param {Uint8Array} rgb
 * @param {Uint8Array} lut
 * @param {number} min
 * @param {number} max
 * @param {number} start
 * @param {number} end
 */
export function colourRange(counts, rgb, lut, min, max, start, end) {
  const n = COLORMAP_ENTRIES;
  const range = max - min;
  for (let i = start, j = start * 3; i < end; i++, j += 3) {
    let entry = 0;
    if (range > 0) {
      const scaled = ((counts[i] - min) / range) * n;
      entry = scaled >= n ? n - 1 : Math.trunc(scaled);
    }
    rgb[j] = lut[entry * 3];
    rgb[j + 1] = lut[entry * 3 + 1];
    rgb[j + 2] = lut[entry * 3 + 2];
  }
}

/**
 * The smallest and largest of counts[start, end).
 *
 * @param {Uint32Array} counts
 * @param {number} start
 * @param {number} end
 * @returns {{ min: number; max: number }}
 */
export function countRange(counts, start, end) {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const value = counts[i];
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}
