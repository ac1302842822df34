// The multi-threaded renderer: a persistent pool of worker threads that render
// Julia sets in bands of rows into shared memory, with progress and cancellation.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import sharp, { type Sharp } from "sharp";
import { colormapLut, type ColormapName } from "./colormaps";
import { assertRenderable, type JuliaParams } from "./julia";
import { CONTROL_CANCELLED, CONTROL_NEXT_BAND, CONTROL_SLOTS, POOL_SLOTS, POOL_YIELD } from "./protocol.mjs";
import type { ColourWork, JuliaWork, RenderMessage, ThreadData, ThreadMessage } from "./protocol.mjs";

export { COLORMAP_NAMES, colorize, colormapLut, type ColormapName } from "./colormaps";
export { computeImage, computeRows, type JuliaParams } from "./julia";

export type RenderProgress = { rowsDone: number; rows: number; fraction: number };
export type RenderOptions = {
  signal?: AbortSignal;
  /** Called after each band, on the calling thread; if it throws, the render fails with that error. */
  onProgress?: (progress: RenderProgress) => void;
  /** Called once its threads have stopped, whatever the outcome: a cancelled render's work is accounted too. */
  onSettled?: (cost: { wallMs: number; cpuMs: number }) => void;
};
export type RenderOutcome = {
  /** width*height counts, row-major, row 0 at the top; backed by a SharedArrayBuffer. */
  counts: Uint32Array;
  /** Sum of the counts: the number of iterations done. */
  iterations: number;
  /** The smallest and largest count, which colouring scales between. */
  min: number;
  max: number;
  /** From the call to render() until the last band was in. */
  wallMs: number;
  /** Sum over threads of the time spent computing bands (wall time inside the kernel). */
  cpuMs: number;
};
export type RenderPoolOptions = { threads?: number; niceness?: number };

/** Upper bound on the work in one band (pixels * depth), so cancelling is quick. */
const BAND_WORK = 2 ** 22;
const MAX_BAND_ROWS = 16;
const MIN_BANDS = 64;

/** Rows per band: at least ~64 bands (load balance), each small enough to stop soon. */
function bandRowsFor(work: JuliaWork | ColourWork): number {
  const [width, height, workPerPixel] =
    work.kind === "julia" ? [work.params.width, work.params.height, Math.max(1, work.params.depth)] : [work.width, work.height, 1];
  const byCount = Math.floor(height / MIN_BANDS);
  const byWork = Math.floor(BAND_WORK / (width * workPerPixel));
  return Math.max(1, Math.min(MAX_BAND_ROWS, byCount, byWork));
}

type Primitive = string | number | bigint | boolean | symbol | null | undefined;

/** The error a render rejects with when its signal's reason is not an object. */
export class RenderAbortedError extends Error {
  override name = "AbortError";
  constructor(reason?: Primitive) {
    super(reason === undefined ? "The render was aborted" : `The render was aborted: ${String(reason)}`, { cause: reason });
  }
}

// Signal reasons a render rejected with, so that isRenderAborted recognises a
// custom reason (e.g. abort(new Error("superseded"))) as a cancellation.
const abortReasons = new WeakSet<object>();

/** True if a render rejected because its signal was aborted (not because it failed). */
export function isRenderAborted(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  return abortReasons.has(error) || (error as { name?: unknown }).name === "AbortError";
}

function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if (typeof reason === "object" && reason !== null) {
    abortReasons.add(reason);
    return reason;
  }
  return new RenderAbortedError(reason as Primitive);
}

/** A piece of work in the pool: computing a render's counts, or colouring them. */
type Job = {
  id: number;
  work: JuliaWork | ColourWork;
  rows: number;
  control: Int32Array;
  bandRows: number;
  bands: number;
  started: number;
  rowsDone: number;
  iterations: number;
  min: number;
  max: number;
  busyMs: number;
  /** Threads working on this job right now. */
  activeThreads: number;
  /** Why the job will reject; set once, then no more bands are started. */
  failure?: { error: unknown };
  isSettled: boolean;
  onProgress?: (progress: RenderProgress) => void;
  onSettled?: RenderOptions["onSettled"];
  resolve: (job: Job) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
};

type Thread = { worker: Worker; job: Job | null; error?: unknown };

/**
 * A fixed set of render threads, created once per process and reused. Renders
 * queue first in, first out: a render takes every idle thread while it has bands
 * left, and threads move to the next render as soon as the current one has none.
 * Colouring a finished render jumps the queue, and threads on a render leave it
 * (after their current band) to do it.
 */
export class RenderPool {
  readonly threads: number;
  private readonly niceness: number;
  private readonly slots: (Thread | null)[];
  /** Shared with every thread (POOL_YIELD). */
  private readonly poolControl = new Int32Array(new SharedArrayBuffer(POOL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private readonly queue: Job[] = [];
  private readonly active = new Set<Job>();
  private nextJobId = 1;
  private isClosed = false;
  private closing?: Promise<void>;

  constructor(options: RenderPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    // Renders are batch work: at the lowest priority (nice 19, a CFS weight of 15
    // against 1,024), a web or Postgres on the same machine preempts them at once.
    this.niceness = options.niceness ?? 19;
    // Threads start with the first render (dispatch), not here: a worker that only processes uploads never pays for them (about 8 MB each).
    this.slots = Array.from({ length: threads }, () => null);
  }

  render(params: JuliaParams, options: RenderOptions = {}): Promise<RenderOutcome> {
    try {
      assertRenderable(params);
    } catch (error) {
      return Promise.reject(error);
    }
    // Copy the params: the caller may reuse its object, and extra fields would be cloned to every thread.
    const { re, im, depth, width, height, zoom, cx, cy } = params;
    const counts = new Uint32Array(new SharedArrayBuffer(width * height * Uint32Array.BYTES_PER_ELEMENT));
    const work: JuliaWork = { kind: "julia", params: { re, im, depth, width, height, zoom, cx, cy }, counts: counts.buffer };
    return this.run(work, options).then(({ iterations, min, max, started, busyMs }) => ({
      counts,
      iterations,
      min,
      max,
      wallMs: performance.now() - started,
      cpuMs: busyMs,
    }));
  }

  /**
   * Colours a finished render as matplotlib's imsave would (RGB, 3 bytes a pixel), on the
   * render threads: a large picture takes a few hundred milliseconds, which would otherwise
   * block the calling thread's event loop at its higher priority.
   */
  colour(
    outcome: Pick<RenderOutcome, "counts" | "min" | "max">,
    size: { width: number; height: number },
    colormap: ColormapName,
    options: Pick<RenderOptions, "signal"> = {},
  ): Promise<Uint8Array> {
    const { width, height } = size;
    if (outcome.counts.length !== width * height)
      return Promise.reject(new RangeError(`expected ${width * height} counts, got ${outcome.counts.length}`));
    const rgb = new Uint8Array(new SharedArrayBuffer(width * height * 3));
    const counts = outcome.counts.buffer instanceof SharedArrayBuffer ? outcome.counts : copyToShared(outcome.counts);
    const work: ColourWork = {
      kind: "colour",
      width,
      height,
      counts: counts.buffer as SharedArrayBuffer,
      rgb: rgb.buffer,
      lut: colormapLut(colormap),
      min: outcome.min,
      max: outcome.max,
    };
    return this.run(work, options).then(() => rgb);
  }

  private run(work: JuliaWork | ColourWork, options: RenderOptions): Promise<Job> {
    const { signal, onProgress, onSettled } = options;
    if (this.isClosed) return Promise.reject(new Error("RenderPool was closed"));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const bandRows = bandRowsFor(work);
    const rows = work.kind === "julia" ? work.params.height : work.height;
    return new Promise<Job>((resolve, reject) => {
      const job: Job = {
        id: this.nextJobId++,
        work,
        rows,
        control: new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT)),
        bandRows,
        bands: Math.ceil(rows / bandRows),
        started: performance.now(),
        rowsDone: 0,
        iterations: 0,
        min: Infinity,
        max: -Infinity,
        busyMs: 0,
        activeThreads: 0,
        isSettled: false,
        onProgress,
        onSettled,
        resolve,
        reject,
        cleanup: () => {},
      };
      if (signal) {
        const onAbort = () => this.fail(job, abortError(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        job.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      // Colouring goes first: it is short, and its render is otherwise done.
      if (work.kind === "colour") this.queue.unshift(job);
      else this.queue.push(job);
      this.active.add(job);
      this.dispatch();
    });
  }

  /** Rejects every unfinished render and terminates the threads. */
  close(): Promise<void> {
    this.closing ??= this.terminate();
    return this.closing;
  }

  private async terminate(): Promise<void> {
    this.isClosed = true;
    for (const job of [...this.active]) {
      this.fail(job, new Error("RenderPool was closed"));
      job.activeThreads = 0;
      this.settle(job);
    }
    this.queue.length = 0;
    const workers = this.slots.flatMap((thread) => (thread ? [thread.worker] : []));
    this.slots.fill(null);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private startThread(): Thread {
    const workerData: ThreadData = { niceness: this.niceness, pool: this.poolControl.buffer };
    // The thread is a plain .mjs file next to this one, so Node loads it as is whether
    // this module runs under tsx or vitest (and bundlers recognise new Worker(new URL(...))).
    // execArgv: [] keeps a TypeScript loader (tsx) out of the threads: they need none.
    const worker = new Worker(new URL("./render-thread.mjs", import.meta.url), { workerData, execArgv: [], name: "render" });
    const thread: Thread = { worker, job: null };
    // Idle threads must not keep the process alive; a thread is ref'd while it renders.
    worker.unref();
    worker.on("message", (message: ThreadMessage) => this.onMessage(thread, message));
    worker.on("error", (error) => {
      thread.error = error;
    });
    worker.on("exit", (code) => this.onExit(thread, code));
    return thread;
  }

  private onMessage(thread: Thread, message: ThreadMessage): void {
    if (message.type === "ready") return;
    const job = thread.job;
    if (!job || job.id !== message.id) return;
    if (message.type === "band") {
      job.rowsDone += message.rows;
      job.iterations += message.iterations;
      job.min = Math.min(job.min, message.min);
      job.max = Math.max(job.max, message.max);
      job.busyMs += message.busyMs;
      if (job.failure || !job.onProgress) return;
      try {
        job.onProgress({ rowsDone: job.rowsDone, rows: job.rows, fraction: job.rowsDone / job.rows });
      } catch (error) {
        this.fail(job, error);
      }
      return;
    }
    // "done": the thread found no band left (or the render was cancelled).
    thread.job = null;
    thread.worker.unref();
    job.activeThreads--;
    this.settle(job);
    this.dispatch();
  }

  private onExit(thread: Thread, code: number): void {
    const index = this.slots.indexOf(thread);
    if (index === -1) return; // terminated by close()
    this.slots[index] = null; // restarted by dispatch() when there is work
    const job = thread.job;
    if (job) {
      thread.job = null;
      job.activeThreads--;
      this.fail(job, thread.error ?? new Error(`render thread exited with code ${code}`));
      this.settle(job);
    }
    this.dispatch();
  }

  /** Stops handing out the render's bands; it rejects once its threads have stopped. */
  private fail(job: Job, error: unknown): void {
    if (job.isSettled || job.failure) return;
    job.failure = { error };
    Atomics.store(job.control, CONTROL_CANCELLED, 1);
    this.settle(job);
  }

  private settle(job: Job): void {
    if (job.isSettled || job.activeThreads > 0) return;
    const hasBandsLeft = Atomics.load(job.control, CONTROL_NEXT_BAND) < job.bands;
    if (!job.failure && hasBandsLeft) return; // waiting in the queue for threads
    job.isSettled = true;
    job.cleanup();
    job.onSettled?.({ wallMs: performance.now() - job.started, cpuMs: job.busyMs });
    this.active.delete(job);
    const queued = this.queue.indexOf(job);
    if (queued !== -1) this.queue.splice(queued, 1);
    if (job.failure) {
      job.reject(job.failure.error);
    } else if (job.rowsDone !== job.rows) {
      job.reject(new Error(`${job.work.kind} ended with ${job.rowsDone} of ${job.rows} rows`));
    } else {
      job.resolve(job);
    }
  }

  /** Gives each idle thread the first job in the queue that still has bands to hand out. */
  private dispatch(): void {
    if (this.isClosed) return;
    this.assignIdleThreads();
    // Colouring still waiting at the front: threads on renders come back after their band.
    Atomics.store(this.poolControl, POOL_YIELD, this.queue[0]?.work.kind === "colour" ? 1 : 0);
  }

  private assignIdleThreads(): void {
    for (let index = 0; index < this.slots.length; index++) {
      while (this.queue.length > 0) {
        const job = this.queue[0];
        if (!job.failure && Atomics.load(job.control, CONTROL_NEXT_BAND) < job.bands) break;
        this.queue.shift(); // every band handed out (or cancelled): its threads finish it
      }
      const job = this.queue[0];
      if (!job) return;
      let thread = this.slots[index];
      if (thread?.job) continue;
      thread ??= this.slots[index] = this.startThread();
      thread.job = job;
      job.activeThreads++;
      thread.worker.ref();
      const message: RenderMessage = {
        type: "render",
        id: job.id,
        work: job.work,
        control: job.control.buffer as SharedArrayBuffer,
        bandRows: job.bandRows,
        bands: job.bands,
      };
      thread.worker.postMessage(message);
    }
  }
}

/** sharp's image of raw RGB pixels (3 bytes a pixel, row-major, row 0 at the top). */
export function rgbImage(rgb: Uint8Array, width: number, height: number): Sharp {
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} bytes of RGB, got ${rgb.length}`);
  const pixels = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** PNG of raw RGB pixels. */
export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return rgbImage(rgb, width, height).png().toBuffer();
}

function copyToShared(counts: Uint32Array): Uint32Array {
  const shared = new Uint32Array(new SharedArrayBuffer(counts.byteLength));
  shared.set(counts);
  return shared;
}

/**
 * Renders, colours as matplotlib's imsave would, and encodes a PNG: the counts and
 * colours on the render threads, the PNG by sharp off the event loop.
 */
export async function renderPng(
  pool: RenderPool,
  params: JuliaParams & { colormap: ColormapName },
  options: RenderOptions = {},
): Promise<RenderOutcome & { rgb: Uint8Array; png: Buffer }> {
  const outcome = await pool.render(params, options);
  const rgb = await pool.colour(outcome, params, params.colormap, { signal: options.signal });
  const png = await encodePng(rgb, params.width, params.height);
  return { ...outcome, rgb, png };
}
