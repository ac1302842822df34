import { describe, expect, it } from "vitest";
import { rechunk } from "./local-store";

async function collect(source: AsyncIterable<Buffer>) {
  const out: Buffer[] = [];
  for await (const piece of source) out.push(piece);
  return out;
}

async function* from(pieces: Buffer[]) {
  yield* pieces;
}

describe("rechunk", () => {
  it("cuts uneven pieces into exact chunks and keeps every byte in order", async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const pieces = [bytes.subarray(0, 7), bytes.subarray(7, 300), bytes.subarray(300, 301), bytes.subarray(301)];
    const chunks = await collect(rechunk(from(pieces), 256));
    expect(chunks.map((chunk) => chunk.length)).toEqual([256, 256, 256, 232]);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it("gives nothing for nothing, and copies pieces whose buffer the source reuses", async () => {
    expect(await collect(rechunk(from([]), 256))).toEqual([]);
    const reused = Buffer.from("abc");
    async function* reusing() {
      yield reused;
      reused.write("xyz");
      yield reused;
    }
    expect((await collect(rechunk(reusing(), 256))).map(String)).toEqual(["abcxyz"]);
  });
});
