// matplotlib's colormaps, reproduced bit for bit (with N = 256 entries) so that a
// picture matches what `matplotlib.pyplot.imsave(counts, cmap=name)` writes.
// The data comes from matplotlib's lib/matplotlib/_cm.py; the construction follows
// colors.py (_create_lookup_table, LinearSegmentedColormap.from_list,
// Colormap.__call__ with bytes=True) operation by operation, because the final
// truncation to bytes turns a one-ulp difference into a different colour.

import { COLORMAP_ENTRIES, colourRange, countRange } from "./colour.mjs";

export const COLORMAP_NAMES = ["nipy_spectral", "cubehelix", "Oranges", "gnuplot", "terrain", "ocean"] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

const N = COLORMAP_ENTRIES;

/** Rows of (x, y0, y1): y0 is the value reached from the left of x, y1 the value leaving it. */
export type Segments = readonly (readonly [number, number, number])[];
/** A colour channel: segment data, or a function of x in [0, 1] (like gnuplot's palette functions). */
export type Channel = Segments | ((x: number) => number);
export type ColormapChannels = { red: Channel; green: Channel; blue: Channel };

/** What LinearSegmentedColormap.from_list builds from (value, colour) pairs. */
function fromList(stops: readonly (readonly [number, readonly [number, number, number]])[]): ColormapChannels {
  const channel = (i: 0 | 1 | 2): Segments => stops.map(([x, rgb]) => [x, rgb[i], rgb[i]] as const);
  return { red: channel(0), green: channel(1), blue: channel(2) };
}

/** numpy.linspace(0, 1, count): i * (1 / (count - 1)), the last value exactly 1. */
function linspace01(count: number): Float64Array {
  const values = new Float64Array(count);
  const step = 1 / (count - 1);
  for (let i = 0; i < count; i++) values[i] = i * step;
  values[count - 1] = 1;
  return values;
}

// _cm.py: _nipy_spectral_data
const nipySpectral: ColormapChannels = {
  red: [
    [0.0, 0.0, 0.0],
    [0.05, 0.4667, 0.4667],
    [0.1, 0.5333, 0.5333],
    [0.15, 0.0, 0.0],
    [0.2, 0.0, 0.0],
    [0.25, 0.0, 0.0],
    [0.3, 0.0, 0.0],
    [0.35, 0.0, 0.0],
    [0.4, 0.0, 0.0],
    [0.45, 0.0, 0.0],
    [0.5, 0.0, 0.0],
    [0.55, 0.0, 0.0],
    [0.6, 0.0, 0.0],
    [0.65, 0.7333, 0.7333],
    [0.7, 0.9333, 0.9333],
    [0.75, 1.0, 1.0],
    [0.8, 1.0, 1.0],
    [0.85, 1.0, 1.0],
    [0.9, 0.8667, 0.8667],
    [0.95, 0.8, 0.8],
    [1.0, 0.8, 0.8],
  ],
  green: [
    [0.0, 0.0, 0.0],
    [0.05, 0.0, 0.0],
    [0.1, 0.0, 0.0],
    [0.15, 0.0, 0.0],
    [0.2, 0.0, 0.0],
    [0.25, 0.4667, 0.4667],
    [0.3, 0.6, 0.6],
    [0.35, 0.6667, 0.6667],
    [0.4, 0.6667, 0.6667],
    [0.45, 0.6, 0.6],
    [0.5, 0.7333, 0.7333],
    [0.55, 0.8667, 0.8667],
    [0.6, 1.0, 1.0],
    [0.65, 1.0, 1.0],
    [0.7, 0.9333, 0.9333],
    [0.75, 0.8, 0.8],
    [0.8, 0.6, 0.6],
    [0.85, 0.0, 0.0],
    [0.9, 0.0, 0.0],
    [0.95, 0.0, 0.0],
    [1.0, 0.8, 0.8],
  ],
  blue: [
    [0.0, 0.0, 0.0],
    [0.05, 0.5333, 0.5333],
    [0.1, 0.6, 0.6],
    [0.15, 0.6667, 0.6667],
    [0.2, 0.8667, 0.8667],
    [0.25, 0.8667, 0.8667],
    [0.3, 0.8667, 0.8667],
    [0.35, 0.6667, 0.6667],
    [0.4, 0.5333, 0.5333],
    [0.45, 0.0, 0.0],
    [0.5, 0.0, 0.0],
    [0.55, 0.0, 0.0],
    [0.6, 0.0, 0.0],
    [0.65, 0.0, 0.0],
    [0.7, 0.0, 0.0],
    [0.75, 0.0, 0.0],
    [0.8, 0.0, 0.0],
    [0.85, 0.0, 0.0],
    [0.9, 0.0, 0.0],
    [0.95, 0.0, 0.0],
    [1.0, 0.8, 0.8],
  ],
};

// _cm.py: _Oranges_data (ColorBrewer), equidistant stops as from_list places them.
const orangesColours = [
  [1.0, 0.96078431372549022, 0.92156862745098034],
  [0.99607843137254903, 0.90196078431372551, 0.80784313725490198],
  [0.99215686274509807, 0.81568627450980391, 0.63529411764705879],
  [0.99215686274509807, 0.68235294117647061, 0.41960784313725491],
  [0.99215686274509807, 0.55294117647058827, 0.23529411764705882],
  [0.94509803921568625, 0.41176470588235292, 0.07450980392156863],
  [0.85098039215686272, 0.28235294117647058, 0.00392156862745098],
  [0.65098039215686276, 0.21176470588235294, 0.01176470588235294],
  [0.49803921568627452, 0.15294117647058825, 0.01568627450980392],
] as const;
const orangesStops = linspace01(orangesColours.length);
const oranges = fromList(orangesColours.map((rgb, i) => [orangesStops[i], rgb] as const));

// _cm.py: _terrain_data, (value, colour) pairs given to from_list.
const terrain = fromList([
  [0.0, [0.2, 0.2, 0.6]],
  [0.15, [0.0, 0.6, 1.0]],
  [0.25, [0.0, 0.8, 0.4]],
  [0.5, [1.0, 1.0, 0.6]],
  [0.75, [0.5, 0.36, 0.33]],
  [1.0, [1.0, 1.0, 1.0]],
]);

// _cm.py: gnuplot palette functions 7, 5, 15 (gnuplot) and 23, 28, 3 (ocean),
// with numpy's order of operations.
const gnuplot: ColormapChannels = {
  red: (x) => Math.sqrt(x),
  green: (x) => x ** 3,
  blue: (x) => Math.sin(x * 2 * Math.PI),
};
const ocean: ColormapChannels = {
  red: (x) => 3 * x - 2,
  green: (x) => Math.abs((3 * x - 1) / 2),
  blue: (x) => x,
};

// _cm.py: _ch_helper with cubehelix()'s defaults gamma=1, s=0.5, r=-1.5, h=1
// (x ** 1.0 is x exactly, so the gamma step is left out).
function cubehelixChannel(p0: number, p1: number): (x: number) => number {
  const s = 0.5;
  const r = -1.5;
  const h = 1.0;
  return (x) => {
    const a = (h * x * (1 - x)) / 2;
    const phi = 2 * Math.PI * (s / 3 + r * x);
    return x + a * (p0 * Math.cos(phi) + p1 * Math.sin(phi));
  };
}
const cubehelix: ColormapChannels = {
  red: cubehelixChannel(-0.14861, 1.78277),
  green: cubehelixChannel(-0.29227, -0.90649),
  blue: cubehelixChannel(1.97294, 0.0),
};

export const COLORMAP_CHANNELS: Record<ColormapName, ColormapChannels> = {
  nipy_spectral: nipySpectral,
  cubehelix,
  Oranges: oranges,
  gnuplot,
  terrain,
  ocean,
};

/** First index i with sorted[i] >= value (numpy.searchsorted, side="left"). */
function searchSortedLeft(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** matplotlib.colors._create_lookup_table(n, channel, gamma=1), values in [0, 1]. */
export function createLookupTable(n: number, channel: Channel): Float64Array {
  const clip = (value: number) => Math.min(1, Math.max(0, value));
  const samples = linspace01(n);
  if (typeof channel === "function") return samples.map((x) => clip(channel(x)));

  const last = channel.length - 1;
  const x = Float64Array.from(channel, (row) => row[0] * (n - 1));
  const y0 = channel.map((row) => row[1]);
  const y1 = channel.map((row) => row[2]);
  const lut = new Float64Array(n);
  lut[0] = y1[0];
  for (let i = 1; i < n - 1; i++) {
    const position = (n - 1) * samples[i];
    const index = searchSortedLeft(x, position);
    const distance = (position - x[index - 1]) / (x[index] - x[index - 1]);
    lut[i] = distance * (y0[index] - y1[index - 1]) + y1[index - 1];
  }
  lut[n - 1] = y0[last];
  return lut.map(clip);
}

const lutCache = new Map<ColormapName, Uint8Array>();

/** 256 RGB entries (768 bytes) as Colormap.__call__(bytes=True) gives them: (value * 255) truncated. */
export function colormapLut(name: ColormapName): Uint8Array {
  const cached = lutCache.get(name);
  if (cached) return cached;
  const channels = COLORMAP_CHANNELS[name];
  if (!channels) throw new RangeError(`unknown colormap ${JSON.stringify(name)}`);
  const tables = [channels.red, channels.green, channels.blue].map((channel) => createLookupTable(N, channel));
  const lut = new Uint8Array(N * 3);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.trunc(tables[c][i] * 255);
  }
  lutCache.set(name, lut);
  return lut;
}

/** Colours counts as imsave does (see colourRange), RGB, 3 bytes a pixel. */
export function colorize(counts: Uint32Array, colormap: ColormapName): Uint8Array {
  const rgb = new Uint8Array(counts.length * 3);
  const { min, max } = countRange(counts, 0, counts.length);
  colourRange(counts, rgb, colormapLut(colormap), min, max, 0, counts.length);
  return rgb;
}
