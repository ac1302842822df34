import { describe, expect, it } from "vitest";
import { uploadThingFileSize } from "./uploadthing-limit";

describe("uploadThingFileSize", () => {
  it("takes the largest power of two within the limit", () => {
    expect(uploadThingFileSize(100 * 1024 * 1024)).toEqual({ size: "64MB", bytes: 64 * 1024 * 1024 });
    expect(uploadThingFileSize(1024 ** 3)).toEqual({ size: "1GB", bytes: 1024 ** 3 });
    expect(uploadThingFileSize(5 * 1024 * 1024)).toEqual({ size: "4MB", bytes: 4 * 1024 * 1024 });
    expect(uploadThingFileSize(1000)).toEqual({ size: "512B", bytes: 512 });
  });
});
