import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIGURATION } from "./validation/configuration";
import { renderFileName } from "./download-name";

describe("renderFileName", () => {
  it("names the file after the configuration and its parameters", () => {
    expect(renderFileName("My Julia", DEFAULT_CONFIGURATION)).toBe("my-julia_c-0.8+0.156i_d256_512x512_z1_nipy_spectral.png");
  });

  it("keeps hostile names out of the file name", () => {
    const name = renderFileName('../../etc/"passwd"\r\n', { ...DEFAULT_CONFIGURATION, im: -0.2, cx: 0.5, cy: -1 });
    expect(name).toBe("etc-passwd_c-0.8-0.2i_d256_512x512_z1_at0.5,-1_nipy_spectral.png");
  });

  it("falls back to julia for names without letters or digits", () => {
    expect(renderFileName("✨✨", DEFAULT_CONFIGURATION)).toMatch(/^julia_c/);
  });
});
