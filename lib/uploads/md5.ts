import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";

/** Bytes per piece handed to the hashing thread, and how many pieces may be out at once (the memory it holds). */
const PIECE_BYTES = 1 << 20;
const PIECES_IN_FLIGHT = 4;

// Inline (eval) so the thread needs no file of its own next to a bundle; plain CommonJS, no loader.
const HASHING_THREAD = `
const { parentPort } = require("node:worker_threads");
const md5 = require("node:crypto").createHash("md5");
parentPort.on("message", (piece) => {
  if (piece === null) return parentPort.postMessage(md5.digest("hex"));
  md5.update(piece);
  parentPort.postMessage(piece, [piece.buffer]);
});
`;

type Piece = Uint8Array<ArrayBuffer>;

/** A thread that hashes the pieces it is sent, in order, and hands each piece's buffer back for reuse. */
function startHashingThread() {
  const worker = new Worker(HASHING_THREAD, { eval: true, execArgv: [], name: "md5" });
  const returned: Piece[] = [];
  let digest: string | undefined;
  let failure: Error | undefined;
  let wake = () => {};
  worker.on("message", (message: Piece | string) => {
    if (typeof message === "string") digest = message;
    else returned.push(message);
    wake();
  });
  worker.on("error", (error) => {
    failure = error;
    wake();
  });
  worker.on("exit", (code) => {
    failure ??= new Error(`md5 thread exited with code ${code}`);
    wake();
  });
  const waitUntil = async (isReady: () => boolean) => {
    while (!isReady()) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  return {
    send: (piece: Piece) => worker.postMessage(piece, [piece.buffer]),
    /** A buffer the thread is done with. */
    takeReturned: async () => {
      await waitUntil(() => returned.length > 0);
      return new Uint8Array(returned.shift()!.buffer);
    },
    digest: async () => {
      worker.postMessage(null);
      await waitUntil(() => digest !== undefined);
      return digest!;
    },
    stop: () => worker.terminate(),
  };
}

/**
 * The md5 (hex) of a byte stream and its length. Past the first 1 MiB, it is
 * hashed on a thread of its own while this one keeps reading: on one thread,
 * receiving and hashing take turns and their costs add up. The bytes are
 * copied into a few reused 1 MiB pieces, transferred to the thread and back,
 * so at most 4 MiB are in flight. Smaller streams are hashed here (starting a
 * thread costs more). An error from the source (its abort signal included)
 * stops the thread.
 */
export async function md5InThread(source: AsyncIterable<Uint8Array>): Promise<{ md5: string; bytes: number }> {
  let thread: ReturnType<typeof startHashingThread> | undefined;
  try {
    let allocated = 1;
    let piece: Piece = new Uint8Array(PIECE_BYTES);
    let filled = 0;
    let bytes = 0;
    for await (const chunk of source) {
      bytes += chunk.length;
      for (let offset = 0; offset < chunk.length;) {
        if (filled === PIECE_BYTES) {
          thread ??= startHashingThread();
          thread.send(piece);
          filled = 0;
          piece = allocated < PIECES_IN_FLIGHT ? (allocated++, new Uint8Array(PIECE_BYTES)) : await thread.takeReturned();
        }
        const take = Math.min(chunk.length - offset, PIECE_BYTES - filled);
        piece.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
      }
    }
    if (!thread) return { md5: createHash("md5").update(piece.subarray(0, filled)).digest("hex"), bytes };
    thread.send(piece.subarray(0, filled));
    return { md5: await thread.digest(), bytes };
  } finally {
    await thread?.stop();
  }
}
