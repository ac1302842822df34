import { describe, expect, it } from "vitest";
import { numberedPaths } from "./webdav";

describe("numberedPaths (adopting uploads made on the page)", () => {
  it("gives each its first free name, in order, around names already taken and names given meanwhile", () => {
    const taken = new Set(["a.txt", "a (3).txt", "notes"]);
    expect(
      numberedPaths(["a.txt", "a.txt", "a (2).txt", "a.txt", "notes", "notes", ".bashrc", ".bashrc", "b.tar.gz", "b.tar.gz"], taken),
    ).toEqual([
      "a (2).txt",
      "a (4).txt",
      "a (2) (2).txt",
      "a (5).txt",
      "notes (2)",
      "notes (3)",
      ".bashrc",
      ".bashrc (2)",
      "b.tar.gz",
      "b.tar (2).gz",
    ]);
  });

  it("names 10,000 uploads of one name without trying a number twice", () => {
    const taken = new Set<string>();
    const has = taken.has.bind(taken);
    let tries = 0;
    taken.has = (path) => (tries++, has(path));
    const paths = numberedPaths(
      Array.from({ length: 10_000 }, () => "same.txt"),
      taken,
    );
    expect(new Set(paths).size).toBe(10_000);
    expect(paths.at(-1)).toBe("same (10000).txt");
    expect(tries).toBe(10_000);
  });
});
