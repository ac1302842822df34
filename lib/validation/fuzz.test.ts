import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ZodType } from "zod";
import { COLORMAP_NAMES } from "@/lib/render/colormaps";
import { nextRunAt, scheduleInputSchema, WEEKDAYS } from "@/lib/schedules";
import {
  formLike,
  hasControlCharacters,
  hostileActionArgument,
  hostileJson,
  hostileString,
  validConfigurationFields,
  validName,
} from "@/lib/test/arbitraries";
import { uploadStepName } from "@/db/schema/uploads";
import { userTier } from "@/db/schema/users";
import { WATCH_INTERVAL_MINUTES } from "@/db/schema/watched-sources";
import { activityQuerySchema } from "./activity";
import { tierChangeArgs, uploadStepArgs } from "./admin";
import { TOKEN_NAME_MAX_LENGTH, tokenIdSchema, tokenNameSchema } from "./api-token";
import { credentialsSchema, PASSWORD_MIN_LENGTH, signUpSchema } from "./auth";
import { configurationInputSchema, DEFAULT_CONFIGURATION, idSchema, LIMITS } from "./configuration";
import { hasHiddenCharacters } from "./names";
import { parseDeclaredType, UPLOAD_NAME_MAX_LENGTH, uploadIdSchema, uploadNameSchema } from "./upload";
import { SOURCE_URL_MAX_LENGTH, sourceUrlSchema, watchedSourceIdSchema, watchSourceInputSchema } from "./watched-source";

// Property tests of the forms' schemas (what server actions parse from FormData):
// no input makes parsing throw, everything accepted is within the documented
// limits, and valid input as a browser sends it is accepted unchanged.
// fast-check prints the seed and the shrunk counterexample when a property fails.

const asForm = (values: Record<string, string | number>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)]));
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe("the configuration form (saveConfiguration)", () => {
  const fields = Object.keys(DEFAULT_CONFIGURATION);

  it("never throws, and accepts only finite numbers within the limits and a clean name", () => {
    fc.assert(
      fc.property(formLike(fields, asForm(DEFAULT_CONFIGURATION)), (form) => {
        const parsed = configurationInputSchema.safeParse(form);
        if (!parsed.success) return;
        const value = parsed.data;
        for (const key of ["re", "im", "zoom", "cx", "cy"] as const) expect(Number.isFinite(value[key]), key).toBe(true);
        expect(value.zoom).toBeGreaterThan(0);
        expect(Number.isInteger(value.depth) && value.depth >= LIMITS.depth.min && value.depth <= LIMITS.depth.max).toBe(true);
        for (const key of ["width", "height"] as const) {
          expect(Number.isInteger(value[key]) && value[key] >= LIMITS.size.min && value[key] <= LIMITS.size.max, key).toBe(true);
        }
        expect(COLORMAP_NAMES).toContain(value.colormap);
        expect(value.name).toBe(value.name.trim());
        expect(value.name.length).toBeGreaterThanOrEqual(1);
        expect(value.name.length).toBeLessThanOrEqual(LIMITS.nameMaxLength);
        expect(hasControlCharacters(value.name)).toBe(false);
        expect(hasHiddenCharacters(value.name)).toBe(false);
        // Only the schema's fields come out, whatever else the form carried.
        expect(Object.keys(value).sort()).toEqual([...fields].sort());
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts every valid configuration as the browser sends it, unchanged", () => {
    const configuration = fc.record(validConfigurationFields);
    fc.assert(
      fc.property(configuration, (value) => {
        expect(configurationInputSchema.parse(asForm(value))).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});

describe("sign-up and sign-in forms", () => {
  it("never throw; an accepted email is trimmed, lower-case and at most 254 characters", () => {
    fc.assert(
      fc.property(formLike(["email", "password"], { email: "someone@example.test", password: "correct horse" }), (form) => {
        for (const schema of [credentialsSchema, signUpSchema]) {
          const parsed = schema.safeParse(form);
          if (!parsed.success) continue;
          expect(parsed.data.email).toBe(parsed.data.email.trim().toLowerCase());
          expect(parsed.data.email.length).toBeLessThanOrEqual(254);
          expect(parsed.data.password.length).toBeGreaterThanOrEqual(schema === signUpSchema ? PASSWORD_MIN_LENGTH : 1);
          expect(parsed.data.password.length).toBeLessThanOrEqual(256);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("accept ordinary addresses in any case with any password of allowed length", () => {
    const email = fc
      .stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,20}@[a-zA-Z0-9]{1,10}\.[a-zA-Z]{2,6}$/)
      .filter((value) => !/\.\.|\.@|[._-]@/.test(value));
    fc.assert(
      fc.property(email, fc.string({ minLength: PASSWORD_MIN_LENGTH, maxLength: 256 }), (address, password) => {
        expect(signUpSchema.parse({ email: ` ${address} `, password })).toEqual({ email: address.toLowerCase(), password });
      }),
      { numRuns: 300 },
    );
  });
});

describe("upload names and declared types", () => {
  it("a name is never thrown on; an accepted one is 1–255 characters, trimmed, NFC, without control or invisible characters, and stable", () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(), hostileJson()), (input) => {
        const parsed = uploadNameSchema.safeParse(input);
        if (!parsed.success) return;
        const name = parsed.data;
        expect(name.length).toBeGreaterThanOrEqual(1);
        expect(name.length).toBeLessThanOrEqual(UPLOAD_NAME_MAX_LENGTH);
        expect(name).toBe(name.trim());
        expect(name).toBe(name.normalize("NFC"));
        expect(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(name)).toBe(false);
        // A name sent back (a download saved and uploaded again) stays the same.
        expect(uploadNameSchema.parse(name)).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts ordinary file names unchanged", () => {
    const name = fc.stringMatching(/^[\w][\w .()-]{0,60}\.[a-z0-9]{1,5}$/);
    fc.assert(
      fc.property(name, (value) => {
        expect(uploadNameSchema.parse(value)).toBe(value.trim());
      }),
      { numRuns: 300 },
    );
  });

  it("a declared type is null or a lower-case media type of at most 100 characters", () => {
    fc.assert(
      fc.property(fc.option(hostileString(), { nil: null }), (value) => {
        const type = parseDeclaredType(value);
        if (type === null) return;
        expect(type).toMatch(/^[a-z0-9][\w.+-]*\/[\w.+-]+$/);
        expect(type).toBe(type.toLowerCase());
        expect(type.length).toBeLessThanOrEqual(100);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("ids taken from paths and action arguments", () => {
  it("accept only canonical UUIDs, and every generated one", () => {
    for (const schema of [idSchema, uploadIdSchema, watchedSourceIdSchema, tokenIdSchema]) {
      fc.assert(
        fc.property(fc.oneof(hostileString(), hostileActionArgument()), (input) => {
          const parsed = schema.safeParse(input);
          if (parsed.success) expect(parsed.data).toMatch(CANONICAL_UUID);
        }),
        { numRuns: 500 },
      );
      fc.assert(
        fc.property(fc.uuid(), (id) => {
          expect(schema.parse(id)).toBe(id);
        }),
        { numRuns: 100 },
      );
    }
  });
});

describe("the watched-source form (watchSourceAction)", () => {
  it("never throws; accepts only http(s) URLs without credentials or fragment, an offered interval and a boolean", () => {
    fc.assert(
      fc.property(
        formLike(["url", "intervalMinutes", "isShared"], { url: "https://example.test/data.csv", intervalMinutes: "60" }),
        (form) => {
          const parsed = watchSourceInputSchema.safeParse(form);
          if (!parsed.success) return;
          const url = new URL(parsed.data.url);
          expect(["http:", "https:"]).toContain(url.protocol);
          expect(url.username + url.password).toBe("");
          expect(parsed.data.url).not.toContain("#");
          expect(WATCH_INTERVAL_MINUTES).toContain(parsed.data.intervalMinutes);
          expect(typeof parsed.data.isShared).toBe("boolean");
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("accepts any http(s) URL up to the length limit", () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ["http", "https"], withQueryParameters: true }), (url) => {
        fc.pre(url.length <= SOURCE_URL_MAX_LENGTH);
        expect(sourceUrlSchema.safeParse(url).success, url).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the schedule form (saveScheduleAction)", () => {
  const fields = ["repeat", "date", "time", "weekday", "timeZone"];

  it("never throws; an accepted schedule has a valid time and zone and a next run that can be computed", () => {
    fc.assert(
      fc.property(
        formLike(fields, { repeat: "weekly", date: "2027-01-15", time: "07:30", weekday: "1", timeZone: "Europe/Paris" }),
        (form) => {
          const parsed = scheduleInputSchema.safeParse(form);
          if (!parsed.success) return;
          const schedule = parsed.data;
          expect(schedule.time).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
          if (schedule.repeat === "weekly") {
            expect(Number.isInteger(schedule.weekday) && schedule.weekday >= 0 && schedule.weekday <= 6).toBe(true);
            // A day must have been chosen: an empty field is not Sunday.
            expect(String(form.weekday).trim()).toBe(String(schedule.weekday));
          }
          const next = nextRunAt(schedule, new Date("2026-11-24T00:00:00Z"));
          if (next !== null) expect(Number.isFinite(next.getTime())).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("accepts every schedule the form can send", () => {
    const time = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
    const timeZone = fc.constantFrom(...Intl.supportedValuesOf("timeZone"));
    const date = fc
      .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2999-12-31T00:00:00Z"), noInvalidDate: true })
      .map((day) => day.toISOString().slice(0, 10));
    const schedule = fc.oneof(
      fc.record({ repeat: fc.constant("once"), date, time, timeZone }),
      fc.record({ repeat: fc.constantFrom("daily", "weekdays"), time, timeZone }),
      fc.record({ repeat: fc.constant("weekly"), weekday: fc.integer({ min: 0, max: WEEKDAYS.length - 1 }), time, timeZone }),
    );
    fc.assert(
      fc.property(schedule, (value) => {
        expect(scheduleInputSchema.parse(asForm(value))).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});

describe("the token form (createTokenAction)", () => {
  it("never throws; an accepted name is trimmed, 1–100 characters, without control characters (Postgres text refuses NUL)", () => {
    fc.assert(
      // What formData.get("name") can be: a string, or a File from a crafted multipart body. (zod's length
      // checks throw on some non-strings, e.g. {length: {valueOf: 1, toString: 1}}; server/api/respond.ts guards JSON bodies.)
      fc.property(fc.oneof(hostileString(), fc.constant(new File(["x"], "x"))), (input) => {
        const parsed = tokenNameSchema.safeParse(input);
        if (!parsed.success) return;
        expect(parsed.data).toBe(parsed.data.trim());
        expect(parsed.data.length).toBeGreaterThanOrEqual(1);
        expect(parsed.data.length).toBeLessThanOrEqual(TOKEN_NAME_MAX_LENGTH);
        expect(hasControlCharacters(parsed.data)).toBe(false);
        expect(hasHiddenCharacters(parsed.data)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts every name a person can type, unchanged", () => {
    fc.assert(
      fc.property(validName(TOKEN_NAME_MAX_LENGTH), (name) => {
        expect(tokenNameSchema.parse(name)).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the activity poll's query (GET /api/activity)", () => {
  const isoDateTime = fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      fc.integer({ min: 0, max: 23 }),
      fc.constantFrom("Z", "+14:00", "-14:00", "+01:00"),
    )
    .map(
      ([year, month, day, hour, offset]) =>
        `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00${offset}`,
    );

  it("never throws; an accepted `since` is an instant Postgres can compare (years 1 to 9999)", () => {
    fc.assert(
      fc.property(fc.oneof(isoDateTime, hostileString()), (since) => {
        const parsed = activityQuerySchema.safeParse({ since });
        if (!parsed.success || parsed.data.since === undefined) return;
        // What the route sends to Postgres: the ISO string of the instant, which must have a four-digit year from 0001.
        expect(new Date(parsed.data.since).toISOString()).toMatch(/^(?!0000)\d{4}-/);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts every instant the server hands out", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
        (since) => {
          expect(activityQuerySchema.parse({ since: since.toISOString() })).toEqual({ since: since.toISOString() });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("the admin actions' arguments (app/(app)/admin/actions.ts)", () => {
  // Each action takes an id and a choice as positional arguments, which a script may send as anything.
  const actions = [
    { name: "retryUploadStepAsAdmin and cancelUploadStepAsAdmin", schema: uploadStepArgs, choices: uploadStepName.enumValues },
    { name: "changeUserTier", schema: tierChangeArgs, choices: userTier.enumValues },
  ] as const;
  const nearMisses = ["Thumbnail", " type", "type\u0000", "checksum ", "PRO", "Free", "admin", "enterprise", "user", "free\u200B"];
  const argument = (choices: readonly string[]) =>
    fc.oneof(
      { weight: 3, arbitrary: hostileActionArgument() },
      { weight: 2, arbitrary: hostileString() },
      { weight: 1, arbitrary: fc.constantFrom(...choices, ...nearMisses) },
      // Any person's id has this shape: the schema cannot tell whose it is (the queries find nothing).
      { weight: 1, arbitrary: fc.uuid() },
    );

  for (const { name, schema, choices } of actions) {
    it(`${name}: never throws; a refusal names exactly the wrong fields, an acceptance is a UUID and one of ${choices.join(", ")}`, () => {
      fc.assert(
        fc.property(argument(choices), argument(choices), (idValue, choiceValue) => {
          const input = [idValue, choiceValue];
          const parsed = schema.safeParse(input);
          const itemSchemas: readonly ZodType[] = schema.def.items;
          const wrongFields = [0, 1].filter((index) => !itemSchemas[index].safeParse(input[index]).success);
          if (parsed.success) {
            expect(wrongFields).toEqual([]);
            expect(parsed.data).toEqual(input);
            expect(input[0]).toMatch(CANONICAL_UUID);
            expect(choices).toContain(input[1]);
          } else {
            expect(new Set(parsed.error.issues.map((issue) => issue.path[0]))).toEqual(new Set(wrongFields));
            expect(wrongFields.length).toBeGreaterThan(0);
          }
        }),
        {
          numRuns: 2000,
          examples: [
            [Number.NaN, choices[0]],
            ["00000000-0000-0000-0000-00000000000\u0000", choices[0]],
            [crypto.randomUUID(), `${choices[0]}\u0000`],
            ["x".repeat(1_000_000), Number.POSITIVE_INFINITY],
          ],
        },
      );
    });

    it(`${name}: accepts any UUID, in either case, with each choice, unchanged`, () => {
      fc.assert(
        fc.property(fc.uuid(), fc.boolean(), fc.constantFrom(...choices), (uuid, isUpperCase, value) => {
          const input = [isUpperCase ? uuid.toUpperCase() : uuid, value];
          expect(schema.parse(input)).toEqual(input);
        }),
        { numRuns: 200 },
      );
    });
  }

  it("retryRenderAsAdmin and cancelRenderAsAdmin: a render's id (idSchema) never throws and is a UUID when accepted", () => {
    fc.assert(
      fc.property(argument([]), (input) => {
        const parsed = idSchema.safeParse(input);
        if (parsed.success) expect(parsed.data).toMatch(CANONICAL_UUID);
        else expect(parsed.error.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});
