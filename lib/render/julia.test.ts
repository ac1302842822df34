import { describe, expect, it } from "vitest";
import { computeImage, computeRows, type JuliaParams } from "./julia";

// The two reference images of DESIGN.md, with the sums of the original algorithm.
const REFERENCE_512: JuliaParams = { re: -0.8, im: 0.156, depth: 256, width: 512, height: 512, zoom: 1, cx: 0, cy: 0 };
const REFERENCE_500x300: JuliaParams = { re: -0.7, im: 0.27015, depth: 512, width: 500, height: 300, zoom: 0.6, cx: 0, cy: 0 };

/** The algorithm as DESIGN.md writes it, one pixel at a time (the kernel interleaves pixels). */
function referenceCount(params: JuliaParams, col: number, row: number): number {
  const { width: W, height: H } = params;
  const side = Math.max(W, H);
  const dx = (side - W) / 2;
  const dy = (side - H) / 2;
  const x = ((2 * (col + dx)) / (side - 1) - 1) / params.zoom + params.cx;
  const y = ((2 * (H - row + dy)) / (side - 1) - 1) / params.zoom + params.cy;
  let re = x;
  let im = y;
  let count = 0;
  while (count < params.depth && re * re + im * im < 4) {
    count += 1;
    const nextRe = re * re - im * im + params.re;
    im = 2 * re * im + params.im;
    re = nextRe;
  }
  return count;
}

function sum(counts: Uint32Array): number {
  let total = 0;
  for (const count of counts) total += count;
  return total;
}

describe("computeRows", () => {
  it("gives the reference sum 12,210,239 for 512x512, depth 256, c = -0.8+0.156i", () => {
    const { counts, iterations } = computeImage(REFERENCE_512);
    expect(iterations).toBe(12_210_239);
    expect(sum(counts)).toBe(12_210_239);
  });

  it("gives the reference sum 9,842,832 for 500x300, depth 512, c = -0.7+0.27015i, zoom 0.6", () => {
    // A build that fuses multiply-adds gets 9,842,823: this guards the order of operations.
    const { counts, iterations } = computeImage(REFERENCE_500x300);
    expect(iterations).toBe(9_842_832);
    expect(sum(counts)).toBe(9_842_832);
  });

  it.each([
    ["wide", REFERENCE_500x300],
    ["tall, off centre, zoomed", { re: 0.285, im: 0.01, depth: 300, width: 37, height: 61, zoom: 2.5, cx: -0.3, cy: 0.2 }],
    ["one column", { re: -0.8, im: 0.156, depth: 200, width: 1, height: 40, zoom: 1, cx: 0.1, cy: 0 }],
    ["two columns", { re: -0.8, im: 0.156, depth: 200, width: 2, height: 40, zoom: 1, cx: 0.1, cy: 0 }],
    ["three columns", { re: -0.8, im: 0.156, depth: 200, width: 3, height: 40, zoom: 1, cx: 0.1, cy: 0 }],
    ["depth 1", { re: -0.8, im: 0.156, depth: 1, width: 30, height: 20, zoom: 0.7, cx: 0, cy: 0 }],
    ["depth 0", { re: -0.8, im: 0.156, depth: 0, width: 5, height: 4, zoom: 1, cx: 0, cy: 0 }],
  ] satisfies [string, JuliaParams][])("agrees pixel by pixel with the formula (%s)", (_, params) => {
    const { counts } = computeImage(params);
    const mismatches: string[] = [];
    for (let row = 0; row < params.height; row++) {
      for (let col = 0; col < params.width; col++) {
        const expected = referenceCount(params, col, row);
        const actual = counts[row * params.width + col];
        if (actual !== expected) mismatches.push(`(${col},${row}): ${actual} != ${expected}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it("puts row 0 at the top, offsets the short side by half the difference, and uses H - row", () => {
    // Depth 1: a pixel counts 1 exactly when its starting point is inside |z| < 2.
    // 20x16: side 20, dy = 2, so row r starts at y = 2 * (16 - r + 2) / 19 - 1 + cy.
    const params: JuliaParams = { re: 0, im: 0, depth: 1, width: 20, height: 16, zoom: 1, cx: 0, cy: 1.2 };
    const { counts } = computeImage(params);
    const at = (col: number, row: number) => counts[row * params.width + col];
    // Column 10: x = 2 * 10 / 19 - 1 = 1/19.
    // Row 0: y = 36/19 - 1 + 1.2 = 2.09 (outside); row 1: y = 34/19 - 1 + 1.2 = 1.99 (inside).
    expect([at(10, 0), at(10, 1), at(10, 15)]).toEqual([0, 1, 1]);
    // Row 15: y = 6/19 - 1 + 1.2 = 0.516; column 0: x = -1, column 19: x = 1: both inside.
    expect([at(0, 15), at(19, 15)]).toEqual([1, 1]);
    // Row 2: y = 32/19 - 1 + 1.2 = 1.884; x = -1 gives |z|^2 = 4.55 (outside), x = 1/19 inside.
    expect([at(0, 2), at(10, 2), at(19, 2)]).toEqual([0, 1, 0]);
  });

  it("fills only the rows it is given and returns their sum", () => {
    const out = new Uint32Array(REFERENCE_512.width * REFERENCE_512.height);
    const iterations = computeRows(REFERENCE_512, 200, 203, out);
    const band = out.subarray(200 * 512, 203 * 512);
    expect(iterations).toBe(sum(band));
    expect(iterations).toBeGreaterThan(0);
    expect(sum(out)).toBe(iterations);
    expect(out[200 * 512 + 77]).toBe(referenceCount(REFERENCE_512, 77, 200));
  });
});
