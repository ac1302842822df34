// @ts-check
// Entry point of one render thread, started by RenderPool (index.ts). Plain
// JavaScript so that it loads without a TypeScript loader (tsx, vitest, a bundle).
//
// A render message names a piece of work (a render's counts, or their colours) and its
// shared buffers; the thread claims bands of rows from a shared counter until none is
// left or the work is cancelled (a shared flag checked between bands), reporting each
// band, then says "done".
// Claiming from shared memory means a thread never waits on the pool between bands.
import { getPriority, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { colourRange, countRange } from "./colour.mjs";
import { computeRows } from "./kernel.mjs";
import { CONTROL_CANCELLED, CONTROL_NEXT_BAND, POOL_YIELD } from "./protocol.mjs";

/** @typedef {import("./protocol.mjs").RenderMessage} RenderMessage */
/** @typedef {import("./protocol.mjs").ThreadMessage} ThreadMessage */
/** @typedef {import("./protocol.mjs").ThreadData} ThreadData */

if (!parentPort) throw new Error("render-thread.mjs must run as a worker thread");
const port = parentPort;

/** @param {ThreadMessage} message */
const send = (message) => port.postMessage(message);

// On Linux the nice value belongs to the thread: this lowers only this thread,
// so the event loop of the process (database, HTTP) keeps its priority.
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- a JSDoc cast, which typescript-eslint cannot see (typescript-eslint#4824)
const { niceness, pool } = /** @type {ThreadData} */ (workerData);
const poolControl = new Int32Array(pool);
try {
  setPriority(niceness);
} catch {
  // Not permitted (asking for more priority than we have): render anyway.
}
send({ type: "ready", niceness: getPriority() });

port.on("message", (/** @type {RenderMessage} */ message) => {
  // Anything else is a bug in the pool: crash loudly, the pool replaces the thread.
  if (message?.type !== "render") throw new Error(`render thread: unexpected message ${JSON.stringify(message)}`);
  const { id, work, bandRows, bands } = message;
  const doBand = work.kind === "julia" ? juliaBand(work) : colourBand(work);
  const height = work.kind === "julia" ? work.params.height : work.height;
  const control = new Int32Array(message.control);
  // Colouring waits for a thread: leave this render's remaining bands to the pool (it keeps them queued).
  const mayYield = work.kind === "julia";
  while (Atomics.load(control, CONTROL_CANCELLED) === 0) {
    if (mayYield && Atomics.load(poolControl, POOL_YIELD) === 1) break;
    const band = Atomics.add(control, CONTROL_NEXT_BAND, 1);
    if (band >= bands) break;
    const rowStart = band * bandRows;
    const rowEnd = Math.min(height, rowStart + bandRows);
    const started = performance.now();
    const { iterations, min, max } = doBand(rowStart, rowEnd);
    send({ type: "band", id, rows: rowEnd - rowStart, iterations, min, max, busyMs: performance.now() - started });
  }
  send({ type: "done", id });
});

/** Escape counts of a band, and their range (which colouring needs for the whole image). */
function juliaBand(/** @type {import("./protocol.mjs").JuliaWork} */ work) {
  const counts = new Uint32Array(work.counts);
  const { params } = work;
  return (/** @type {number} */ rowStart, /** @type {number} */ rowEnd) => {
    const iterations = computeRows(params, rowStart, rowEnd, counts);
    return { iterations, ...countRange(counts, rowStart * params.width, rowEnd * params.width) };
  };
}

/** Colours of a band, from the whole image's range. */
function colourBand(/** @type {import("./protocol.mjs").ColourWork} */ work) {
  const counts = new Uint32Array(work.counts);
  const rgb = new Uint8Array(work.rgb);
  const { width, lut, min, max } = work;
  return (/** @type {number} */ rowStart, /** @type {number} */ rowEnd) => {
    colourRange(counts, rgb, lut, min, max, rowStart * width, rowEnd * width);
    return { iterations: 0, min, max };
  };
}
