import { describe, expect, it } from "vitest";
import { CopyBinaryParser, rechunk } from "./local-store";

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

describe("CopyBinaryParser", () => {
  /** Postgres's binary COPY of rows of one bytea column: header, rows (field count, length, bytes), trailer. */
  function copyOf(rows: Buffer[]) {
    const header = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);
    const tuples = rows.map((row) => {
      const prefix = Buffer.alloc(6);
      prefix.writeInt16BE(1, 0);
      prefix.writeInt32BE(row.length, 2);
      return Buffer.concat([prefix, row]);
    });
    return Buffer.concat([header, ...tuples, Buffer.from([0xff, 0xff])]);
  }
  const rows = [Buffer.from("first row"), Buffer.alloc(0), Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256))];

  it("gives every row, whether pieces follow message boundaries or are cut anywhere", () => {
    const stream = copyOf(rows);
    for (const pieceSize of [1, 2, 5, 7, 64, stream.length]) {
      const parser = new CopyBinaryParser();
      const out: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += pieceSize)
        out.push(...parser.push(stream.subarray(offset, offset + pieceSize)));
      expect(
        out.map((row) => row.toString("hex")),
        `pieces of ${pieceSize}`,
      ).toEqual(rows.map((row) => row.toString("hex")));
      expect(parser.isDone).toBe(true);
    }
  });

  it("knows an empty COPY from a cut one, and refuses what it does not expect", () => {
    const empty = new CopyBinaryParser();
    expect(empty.push(copyOf([]))).toEqual([]);
    expect(empty.isDone).toBe(true);
    const cut = new CopyBinaryParser();
    cut.push(copyOf(rows).subarray(0, 40));
    expect(cut.isDone).toBe(false);
    expect(() => new CopyBinaryParser().push(Buffer.from("id,data\n1,abc\n1234567890"))).toThrow(/Not a binary COPY/);
  });
});
