// @ts-check
// What the pool (index.ts) and the render threads (render-thread.mjs) share.
// Plain JavaScript, like the thread itself, so the thread loads it without a loader.

/** Slots of the Int32Array (over a SharedArrayBuffer) that controls one piece of work. */
export const CONTROL_NEXT_BAND = 0; // next band to claim, with Atomics.add
export const CONTROL_CANCELLED = 1; // 1 once the work is aborted or failed
export const CONTROL_SLOTS = 2;

/**
 * Slots of the Int32Array the pool shares with all its threads. POOL_YIELD is 1 while
 * colouring waits for a thread: a thread on a render's counts returns to the pool after
 * its current band, so a finished render is not kept waiting for another render's hours.
 */
export const POOL_YIELD = 0;
export const POOL_SLOTS = 1;

/**
 * Two kinds of work, both done in bands of rows claimed from the control's counter:
 * computing a render's escape counts, and colouring a finished render's counts.
 *
 * @typedef {import("./kernel.mjs").JuliaParams} JuliaParams
 * @typedef {{ niceness: number; pool: SharedArrayBuffer }} ThreadData
 * @typedef {{ kind: "julia"; params: JuliaParams; counts: SharedArrayBuffer }} JuliaWork
 * @typedef {{ kind: "colour"; width: number; height: number; counts: SharedArrayBuffer; rgb: SharedArrayBuffer; lut: Uint8Array; min: number; max: number }} ColourWork
 * @typedef {{ type: "render"; id: number; work: JuliaWork | ColourWork; control: SharedArrayBuffer; bandRows: number; bands: number }} RenderMessage
 * @typedef {{ type: "ready"; niceness: number }
 *   | { type: "band"; id: number; rows: number; iterations: number; min: number; max: number; busyMs: number }
 *   | { type: "done"; id: number }} ThreadMessage
 */
