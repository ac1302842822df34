import fc from "fast-check";
import { COLORMAP_NAMES } from "@/lib/render/colormaps";
import { LIMITS } from "@/lib/validation/configuration";
import { hasHiddenCharacters } from "@/lib/validation/names";

/**
 * fast-check arbitraries for fuzzing the app's boundaries (forms, API bodies,
 * query strings, job payloads), shared by the unit property tests and e2e/fuzz.spec.ts.
 * They lean towards what breaks parsers: numbers in disguise, control and
 * invisible characters, lone surrogates, prototype keys, huge and deep values.
 */

/** Strings that have broken number, name and date parsers somewhere. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "\t\n",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e400",
  "-1e400",
  "1e-400",
  "0x10",
  "0b11",
  "1e1",
  " 12 ",
  "+5",
  ".5",
  "5.",
  "1,5",
  "1_000",
  "0",
  "-0",
  "9007199254740993",
  "１２", // fullwidth digits
  "١٢", // Arabic-Indic digits
  "\u0000",
  "a\u0000b",
  "\u202Egnp.exe",
  "\u200B",
  "\u2028",
  "\ud800", // a lone surrogate
  "\udfff\ud800",
  "__proto__",
  "constructor",
  "prototype",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "%00",
  "%E0%A4%A",
  "'; drop table users; --",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59-14:00",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "x".repeat(300),
  "é".repeat(2100),
] as const;

/** Any string, biased towards the hostile ones and towards every kind of code unit. */
export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 2, arbitrary: fc.string() },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    // UTF-16 code units one by one: lone surrogates, NUL, bidi controls.
    {
      weight: 1,
      arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 20 }),
    },
    { weight: 1, arbitrary: fc.double().map(String) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.uuid(),
          fc.constantFrom(
            (id: string) => id,
            (id: string) => id.toUpperCase(),
            (id: string) => ` ${id}`,
          ),
        )
        .map(([id, disguise]) => disguise(id)),
    },
  );

/** Numbers a JSON body can carry and more: NaN, ±Infinity, -0, huge, tiny, unsafe integers. */
export const hostileNumber = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      2 ** 53 + 2,
      -(2 ** 63),
      1e21,
      4096.5,
      4097,
      15,
      5001,
    ),
  );

/** Keys that pollute prototypes or confuse parsers, plus ordinary ones. */
export const hostileKey = (known: readonly string[] = []): fc.Arbitrary<string> =>
  fc.oneof(
    ...(known.length > 0 ? [fc.constantFrom(...known)] : []),
    fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "$ACTION_ID_x", "a.b", "0"),
    fc.string({ maxLength: 12 }),
  );

/** JSON text of a value nested `depth` levels deep in arrays and objects (built as text: JSON.stringify would overflow the stack). */
export const deeplyNestedJson = (depth: number, leaf = "1") => {
  const opening = Array.from({ length: depth }, (_, level) => (level % 2 === 0 ? "[" : '{"a":')).join("");
  const closing = Array.from({ length: depth }, (_, level) => (level % 2 === 0 ? "]" : "}"))
    .reverse()
    .join("");
  return opening + leaf + closing;
};

/** Any JSON-like value a client might send, hostile leaves included. */
export const hostileJson = (): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      hostileString(),
      hostileNumber(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(hostileKey(), tie("value"), { maxKeys: 4 }),
    ),
  })).value;

/**
 * An argument of a server action called directly, as a script can: anything
 * React's reply encoding carries, which is JSON and also undefined, NaN,
 * ±Infinity, -0 and BigInt.
 */
export const hostileActionArgument = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: hostileJson() },
    { weight: 1, arbitrary: fc.constantFrom(undefined, Number.NaN, Infinity, -Infinity, -0) },
    { weight: 1, arbitrary: fc.bigInt() },
  );

/**
 * An object of `known` fields (each maybe missing) with hostile values and
 * maybe extra hostile keys: what a fuzzer sends to a strict object schema.
 * Object.defineProperty keeps "__proto__" an own key, as JSON.parse does.
 */
export const hostileRecord = (
  known: readonly string[],
  value: fc.Arbitrary<unknown> = hostileJson(),
): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(
      fc.dictionary(fc.constantFrom(...known), value, { maxKeys: known.length }),
      fc.dictionary(hostileKey(), value, { maxKeys: 2 }),
      fc.boolean(),
    )
    .map(([fields, extra, withExtra]) => {
      const record: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries({ ...fields, ...(withExtra ? extra : {}) })) {
        Object.defineProperty(record, key, { value: entry, enumerable: true, writable: true, configurable: true });
      }
      return record;
    });

/**
 * What Object.fromEntries(formData) gives a server action: every value a
 * string (or a File, for a crafted multipart body), keys as the client chose.
 */
export const formLike = (known: readonly string[], base: Record<string, string> = {}): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(
      fc.dictionary(
        fc.constantFrom(...known),
        fc.oneof({ weight: 9, arbitrary: hostileString() }, { weight: 1, arbitrary: fc.constant(new File(["x"], "x.txt")) }),
        {
          maxKeys: known.length,
        },
      ),
      fc.dictionary(hostileKey(), hostileString(), { maxKeys: 2 }),
      fc.subarray(Object.keys(base)),
    )
    .map(([fields, extra, dropped]) => {
      const form: Record<string, unknown> = { ...base };
      for (const key of dropped) delete form[key];
      for (const [key, entry] of Object.entries({ ...extra, ...fields })) {
        Object.defineProperty(form, key, { value: entry, enumerable: true, writable: true, configurable: true });
      }
      return form;
    });

/** No control characters (C0 and DEL), which Postgres text refuses (NUL) or which corrupt logs and headers. */
export const hasControlCharacters = (value: string) => /[\u0000-\u001f\u007f]/.test(value);

/** A name as a person types one that the forms accept: trimmed, 1–`max` characters, no control or hidden characters. */
export const validName = (max: number) =>
  fc
    .string({ minLength: 1, maxLength: max, unit: "grapheme-composite" })
    .filter(
      (name) => name === name.trim() && name.length >= 1 && name.length <= max && !hasControlCharacters(name) && !hasHiddenCharacters(name),
    );

/** Finite numbers, with -0 as 0 (JSON and forms cannot tell them apart). */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => (Object.is(value, -0) ? 0 : value));

/** The fields of a configuration the forms and the Jobs API accept, each within its limits. */
export const validConfigurationFields = {
  name: validName(LIMITS.nameMaxLength),
  re: finite,
  im: finite,
  depth: fc.integer(LIMITS.depth),
  width: fc.integer(LIMITS.size),
  height: fc.integer(LIMITS.size),
  zoom: finite.filter((zoom) => zoom > 0),
  cx: finite,
  cy: finite,
  colormap: fc.constantFrom(...COLORMAP_NAMES),
};
