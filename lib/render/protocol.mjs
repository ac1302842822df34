// @ts-check
// What the pool (index.ts) and the render threads (render-thread.mjs) share.
// Plain JavaScript, like the thread itself, so the thread loads it without a loader.

/** Slots of the Int32Array (over a SharedArrayBuffer) that controls one render. */
export const CONTROL_NEXT_BAND = 0; // next band to claim, with Atomics.add
export const CONTROL_CANCELLED = 1; // 1 once the render is aborted or failed
export const CONTROL_SLOTS = 2;

/**
 * @typedef {import("./kernel.mjs").JuliaParams} JuliaParams
 * @typedef {{ niceness: number }} ThreadData
 * @typedef {{ type: "render"; id: number; params: JuliaParams; counts: SharedArrayBuffer; control: SharedArrayBuffer; bandRows: number; bands: number }} RenderMessage
 * @typedef {{ type: "ready"; niceness: number }
 *   | { type: "band"; id: number; rows: number; iterations: number; busyMs: number }
 *   | { type: "done"; id: number }} ThreadMessage
 */
