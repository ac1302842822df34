// @ts-check
// The escape-time kernel, in plain JavaScript so that render threads can load it
// without a TypeScript loader (under tsx, vitest or a bundle alike). julia.ts
// re-exports it: the main thread and the render threads run this one function.

/**
 * @typedef {{ re: number; im: number; depth: number; width: number; height: number; zoom: number; cx: number; cy: number }} JuliaParams
 */

/**
 * Fills rows [rowStart, rowEnd) of `out` (the whole width*height image, row-major,
 * row 0 at the top) with escape counts and returns their sum, which is also the
 * number of iterations done.
 *
 * Each pixel follows the reference algorithm operation by operation in IEEE
 * doubles (reordering any operation changes some counts):
 *   x = (2 * (col + dx) / (side - 1) - 1) / zoom + cx
 *   y = (2 * (H - row + dy) / (side - 1) - 1) / zoom + cy
 *   while count < depth and re*re + im*im < 4: count++; (re, im) = (re*re - im*im + c.re, 2*re*im + c.im)
 *
 * Two pixels of a row are iterated side by side: each step of one pixel depends
 * on the previous step (a chain of about 12 cycles of multiply/add latency), so
 * interleaving two independent chains keeps the FPU busy and renders ~1.5x faster.
 * Every pixel still sees exactly the same operations as the plain loop.
 *
 * @param {JuliaParams} params
 * @param {number} rowStart
 * @param {number} rowEnd
 * @param {Uint32Array} out
 * @returns {number}
 */
export function computeRows(params, rowStart, rowEnd, out) {
  const cre = +params.re;
  const cim = +params.im;
  const depth = params.depth | 0;
  const width = params.width | 0;
  const height = params.height | 0;
  const zoom = +params.zoom;
  const cx = +params.cx;
  const cy = +params.cy;
  const side = Math.max(width, height);
  const dx = (side - width) / 2;
  const dy = (side - height) / 2;
  const sideMinusOne = side - 1;
  let total = 0;
  for (let row = rowStart | 0; row < rowEnd; row++) {
    const y0 = ((2 * (height - row + dy)) / sideMinusOne - 1) / zoom + cy;
    const offset = row * width;
    // Slots A and B each hold one pixel in progress; `next` is the next column to start.
    // (Plain expressions rather than helper closures: V8 runs this ~20% faster.)
    let colA = 0;
    let reA = ((2 * (0 + dx)) / sideMinusOne - 1) / zoom + cx;
    let imA = y0;
    let countA = 0;
    let colB = 1;
    let reB = ((2 * (1 + dx)) / sideMinusOne - 1) / zoom + cx;
    let imB = y0;
    let countB = 0;
    let next = 2;
    while (width >= 2) {
      let isDoneA = false;
      let isDoneB = false;
      for (;;) {
        const reA2 = reA * reA;
        const imA2 = imA * imA;
        const reB2 = reB * reB;
        const imB2 = imB * imB;
        isDoneA = !(countA < depth && reA2 + imA2 < 4);
        isDoneB = !(countB < depth && reB2 + imB2 < 4);
        if (isDoneA || isDoneB) break;
        countA++;
        imA = 2 * reA * imA + cim;
        reA = reA2 - imA2 + cre;
        countB++;
        imB = 2 * reB * imB + cim;
        reB = reB2 - imB2 + cre;
      }
      if (isDoneA) {
        out[offset + colA] = countA;
        total += countA;
        if (next >= width) {
          // No pixel left to start: B (done or not) moves to slot A and ends alone below.
          colA = colB;
          reA = reB;
          imA = imB;
          countA = countB;
          break;
        }
        colA = next++;
        reA = ((2 * (colA + dx)) / sideMinusOne - 1) / zoom + cx;
        imA = y0;
        countA = 0;
      }
      if (isDoneB) {
        out[offset + colB] = countB;
        total += countB;
        if (next >= width) break;
        colB = next++;
        reB = ((2 * (colB + dx)) / sideMinusOne - 1) / zoom + cx;
        imB = y0;
        countB = 0;
      }
    }
    if (width < 1) continue;
    // The last pixel of the row (the only one when width is 1), with the plain loop.
    while (countA < depth) {
      const reA2 = reA * reA;
      const imA2 = imA * imA;
      if (!(reA2 + imA2 < 4)) break;
      countA++;
      imA = 2 * reA * imA + cim;
      reA = reA2 - imA2 + cre;
    }
    out[offset + colA] = countA;
    total += countA;
  }
  return total;
}
