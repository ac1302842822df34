import { describe, expect, it } from "vitest";
import { COMMON_OPTIONS, joinNegativeNumbers, parseCommandLine, parseId, parseInteger, parseNumber } from "./args";
import { renderRequest } from "./commands/render";
import { EXIT, UsageError } from "./errors";

const usageError = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(EXIT.usage);
    return (error as Error).message;
  }
  throw new Error("expected a usage error");
};

describe("numbers on the command line", () => {
  it("takes plain decimals, signs and exponents", () => {
    expect(parseNumber("re", "-0.8")).toBe(-0.8);
    expect(parseNumber("re", "+.5")).toBe(0.5);
    expect(parseNumber("zoom", "1e3")).toBe(1000);
    expect(parseNumber("zoom", " 2 ")).toBe(2);
    expect(parseInteger("depth", "64")).toBe(64);
  });

  it.each(["", " ", "abc", "NaN", "Infinity", "-Infinity", "1e999", "0x10", "1_000", "1,5", "--1", "1e", "."])("refuses %j", (value) => {
    expect(usageError(() => parseNumber("re", value))).toContain("--re must be a number");
  });

  it("refuses fractions and unsafe integers where a whole number is wanted", () => {
    expect(usageError(() => parseInteger("width", "64.5"))).toContain("--width must be a whole number");
    expect(usageError(() => parseInteger("depth", "1e20"))).toContain("whole number");
  });
});

describe("parsing a command line", () => {
  const options = { re: { type: "string" }, wait: { type: "boolean" }, ...COMMON_OPTIONS } as const;

  it("joins a negative number to the option before it, which parseArgs would call ambiguous", () => {
    expect(joinNegativeNumbers(["--re", "-0.8", "--wait"], options)).toEqual(["--re=-0.8", "--wait"]);
    expect(joinNegativeNumbers(["--re", "-.5"], options)).toEqual(["--re=-.5"]);
    // Only for string options: a boolean is never given a value.
    expect(joinNegativeNumbers(["--wait", "-1"], options)).toEqual(["--wait", "-1"]);
    expect(parseCommandLine(["--re", "-0.8", "--json"], options, "usage").values).toMatchObject({ re: "-0.8", json: true });
  });

  it("turns parseArgs' errors into usage errors", () => {
    expect(usageError(() => parseCommandLine(["--bogus"], options, "usage"))).toContain("Unknown option '--bogus'");
    expect(usageError(() => parseCommandLine(["--re"], options, "usage"))).toContain("argument missing");
    expect(usageError(() => parseCommandLine(["--wait=yes"], options, "usage"))).toContain("does not take an argument");
  });

  it("takes ids as UUIDs only", () => {
    expect(parseId("0B9F5C1E-1234-4abc-8def-0123456789AB", "usage")).toBe("0b9f5c1e-1234-4abc-8def-0123456789ab");
    expect(usageError(() => parseId("../renders", "usage"))).toContain("is not a render or upload id");
    expect(usageError(() => parseId(undefined, "usage"))).toContain("Give the id");
  });
});

describe("the render request", () => {
  it("sends only what was given, as numbers", () => {
    expect(renderRequest({ re: "-0.8", im: "0.156", width: "64", height: "64", depth: "64", colormap: "ocean" })).toEqual({
      re: -0.8,
      im: 0.156,
      width: 64,
      height: 64,
      depth: 64,
      colormap: "ocean",
    });
  });

  it("needs --re and --im, and numbers where numbers go", () => {
    expect(usageError(() => renderRequest({ re: "0" }))).toBe("--re and --im are required");
    expect(usageError(() => renderRequest({ re: "abc", im: "0" }))).toContain('--re must be a number, not "abc"');
    expect(usageError(() => renderRequest({ re: "0", im: "0", depth: "" }))).toContain("--depth must be a number");
    expect(usageError(() => renderRequest({ re: "0", im: "0", zoom: "1e999" }))).toContain("--zoom must be a number");
    expect(usageError(() => renderRequest({ re: "0", im: "0", configuration: "42" }))).toContain("not a render or upload id");
  });
});
