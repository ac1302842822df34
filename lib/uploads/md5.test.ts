import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { md5InThread } from "./md5";

const MB = 1 << 20;

/** The bytes in pieces of an awkward size, as a reader would give them. */
async function* inPieces(bytes: Buffer, pieceBytes: number) {
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) yield bytes.subarray(offset, offset + pieceBytes);
}

describe("md5InThread", () => {
  it.each([0, 1, MB - 1, MB, MB + 1, 9 * MB + 12_345])("gives the md5 and length of %i bytes", async (size) => {
    const bytes = randomBytes(size);
    const expected = createHash("md5").update(bytes).digest("hex");
    expect(await md5InThread(inPieces(bytes, 300_007))).toEqual({ md5: expected, bytes: size });
    expect(await md5InThread(inPieces(bytes, 4 * MB))).toEqual({ md5: expected, bytes: size });
  });

  it("fails with the source's error, once the thread has started too", async () => {
    const aborted = new AbortController();
    async function* failing() {
      yield randomBytes(3 * MB);
      aborted.abort(new Error("time limit"));
      aborted.signal.throwIfAborted();
    }
    await expect(md5InThread(failing())).rejects.toThrow("time limit");
  });
});
