import { describe, expect, it } from "vitest";
import { COLORMAP_CHANNELS, COLORMAP_NAMES, colorize, colormapLut, type ColormapName } from "./colormaps";

function entry(name: ColormapName, index: number): number[] {
  return Array.from(colormapLut(name).subarray(index * 3, index * 3 + 3));
}

describe("colormapLut", () => {
  it("has 256 RGB entries per map and caches them", () => {
    for (const name of COLORMAP_NAMES) {
      expect(colormapLut(name)).toHaveLength(768);
      expect(colormapLut(name)).toBe(colormapLut(name));
    }
  });

  it("starts and ends where matplotlib's data says", () => {
    // gnuplot: (sqrt x, x^3, sin 2πx); sin(2π) is a hair below 0 and clips to 0.
    expect(entry("gnuplot", 0)).toEqual([0, 0, 0]);
    expect(entry("gnuplot", 255)).toEqual([255, 255, 0]);
    // nipy_spectral ends at (0.8, 0.8, 0.8): 0.8 * 255 = 204.
    expect(entry("nipy_spectral", 0)).toEqual([0, 0, 0]);
    expect(entry("nipy_spectral", 255)).toEqual([204, 204, 204]);
    // cubehelix runs from black to white.
    expect(entry("cubehelix", 0)).toEqual([0, 0, 0]);
    expect(entry("cubehelix", 255)).toEqual([255, 255, 255]);
    // ocean at 0: (3x - 2 → 0, |(3x - 1) / 2| = 0.5 → 127, x = 0).
    expect(entry("ocean", 0)).toEqual([0, 127, 0]);
    expect(entry("ocean", 255)).toEqual([255, 255, 255]);
    // terrain from (0.2, 0.2, 0.6) to white; Oranges is ColorBrewer's #fff5eb to #7f2704.
    expect(entry("terrain", 0)).toEqual([51, 51, 153]);
    expect(entry("terrain", 255)).toEqual([255, 255, 255]);
    expect(entry("Oranges", 0)).toEqual([0xff, 0xf5, 0xeb]);
    expect(entry("Oranges", 255)).toEqual([0x7f, 0x27, 0x04]);
  });

  it("interpolates between the stops like _create_lookup_table", () => {
    // nipy_spectral: entry 51 sits exactly on the stop at 0.2 = (0, 0, 0.8667): 0.8667 * 255 = 221.01.
    expect(entry("nipy_spectral", 51)).toEqual([0, 0, 221]);
    // nipy_spectral entry 1: 1/12.75 of the way to the stop at 0.05 = (0.4667, 0, 0.5333): 9.33, 0, 10.67.
    expect(entry("nipy_spectral", 1)).toEqual([9, 0, 10]);
    // terrain entry 20: 20/38.25 of the way from (0.2, 0.2, 0.6) to (0, 0.6, 1): 24.3, 104.3, 206.3.
    expect(entry("terrain", 20)).toEqual([24, 104, 206]);
    // Oranges entry 128: 0.5/31.875 of the way from the 5th to the 6th ColorBrewer colour
    // (matplotlib's Oranges(0.5) is (0.99142, 0.55073, 0.23277)): 252.8, 140.4, 59.4.
    expect(entry("Oranges", 128)).toEqual([252, 140, 59]);
    // gnuplot entry 128: sqrt(128 * 255) = 180.7, 128^3 / 255^2 = 32.25, sin(2π·128/255) < 0.
    expect(entry("gnuplot", 128)).toEqual([180, 32, 0]);
  });

  it("never lands within 1e-9 of a byte boundary where a libm function decides the value", () => {
    // sin, cos and pow may differ by an ulp between V8 and numpy's libm. Truncation to
    // a byte only notices that if value * 255 is that close to an integer k >= 1.
    const transcendental: [ColormapName, "red" | "green" | "blue"][] = [
      ["gnuplot", "green"],
      ["gnuplot", "blue"],
      ["cubehelix", "red"],
      ["cubehelix", "green"],
      ["cubehelix", "blue"],
    ];
    const close: string[] = [];
    for (const [name, channelName] of transcendental) {
      const channel = COLORMAP_CHANNELS[name][channelName];
      if (typeof channel !== "function") throw new Error(`${name}.${channelName} should be a function`);
      for (let i = 1; i < 255; i++) {
        const scaled = channel(i * (1 / 255)) * 255;
        const nearest = Math.round(scaled);
        if (nearest >= 1 && nearest <= 255 && Math.abs(scaled - nearest) < 1e-9) close.push(`${name}.${channelName}[${i}] = ${scaled}`);
      }
    }
    expect(close).toEqual([]);
  });
});

describe("colorize", () => {
  it("normalises from the image's min to its max, as imsave does", () => {
    const lut = colormapLut("gnuplot");
    const rgb = colorize(Uint32Array.from([10, 20, 30, 15]), "gnuplot");
    // (v - 10) / 20 * 256 → 0, 128, 256 (the last entry), 64.
    const expected = [0, 128, 255, 64].flatMap((index) => Array.from(lut.subarray(index * 3, index * 3 + 3)));
    expect(Array.from(rgb)).toEqual(expected);
  });

  it("truncates the scaled value: 1/3 of the range is entry 85", () => {
    const lut = colormapLut("terrain");
    const rgb = colorize(Uint32Array.from([0, 1, 3]), "terrain");
    expect(Array.from(rgb.subarray(3, 6))).toEqual(Array.from(lut.subarray(85 * 3, 86 * 3)));
  });

  it("maps a constant image to the first entry", () => {
    const lut = colormapLut("Oranges");
    const rgb = colorize(new Uint32Array(5).fill(42), "Oranges");
    for (let i = 0; i < 5; i++) expect(Array.from(rgb.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(lut.subarray(0, 3)));
  });
});
