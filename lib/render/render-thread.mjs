// @ts-check
// Entry point of one render thread, started by RenderPool (index.ts). Plain
// JavaScript so that it loads without a TypeScript loader (tsx, vitest, a bundle).
//
// A render message names a render and its shared buffers; the thread claims bands
// of rows from a shared counter until none is left or the render is cancelled (a
// shared flag checked between bands), reporting each band, then says "done".
// Claiming from shared memory means a thread never waits on the pool between bands.
import { getPriority, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { computeRows } from "./kernel.mjs";
import { CONTROL_CANCELLED, CONTROL_NEXT_BAND } from "./protocol.mjs";

/** @typedef {import("./protocol.mjs").RenderMessage} RenderMessage */
/** @typedef {import("./protocol.mjs").ThreadMessage} ThreadMessage */
/** @typedef {import("./protocol.mjs").ThreadData} ThreadData */

if (!parentPort) throw new Error("render-thread.mjs must run as a worker thread");
const port = parentPort;

/** @param {ThreadMessage} message */
const send = (message) => port.postMessage(message);

// On Linux the nice value belongs to the thread: this lowers only this thread,
// so the event loop of the process (database, HTTP) keeps its priority.
const { niceness } = /** @type {ThreadData} */ (workerData);
try {
  setPriority(niceness);
} catch {
  // Not permitted (asking for more priority than we have): render anyway.
}
send({ type: "ready", niceness: getPriority() });

port.on("message", (/** @type {RenderMessage} */ message) => {
  // Anything else is a bug in the pool: crash loudly, the pool replaces the thread.
  if (message?.type !== "render") throw new Error(`render thread: unexpected message ${JSON.stringify(message)}`);
  const { id, params, bandRows, bands } = message;
  const counts = new Uint32Array(message.counts);
  const control = new Int32Array(message.control);
  while (Atomics.load(control, CONTROL_CANCELLED) === 0) {
    const band = Atomics.add(control, CONTROL_NEXT_BAND, 1);
    if (band >= bands) break;
    const rowStart = band * bandRows;
    const rowEnd = Math.min(params.height, rowStart + bandRows);
    const started = performance.now();
    const iterations = computeRows(params, rowStart, rowEnd, counts);
    send({ type: "band", id, rows: rowEnd - rowStart, iterations, busyMs: performance.now() - started });
  }
  send({ type: "done", id });
});
