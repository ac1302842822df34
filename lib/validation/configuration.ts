import { z } from "zod";
import { refuseHiddenCharacters } from "./names";
import { COLORMAP_NAMES } from "@/lib/render/colormaps";

export const LIMITS = {
  depth: { min: 1, max: 5000 },
  size: { min: 16, max: 4096 },
  nameMaxLength: 100,
} as const;

export const DEFAULT_CONFIGURATION: ConfigurationInput = {
  name: "Untitled",
  re: -0.8,
  im: 0.156,
  depth: 256,
  width: 512,
  height: 512,
  zoom: 1,
  cx: 0,
  cy: 0,
  colormap: "nipy_spectral",
};

/**
 * A number typed into a form: rejects empty strings (which Number() turns into 0),
 * NaN and ±Infinity with a message a person understands.
 */
function formNumber(label: string) {
  return z.preprocess(
    (value) => (typeof value === "string" ? (value.trim() === "" ? undefined : Number(value.trim())) : value),
    z
      // zod rejects NaN and ±Infinity itself; say which it was.
      .number({
        error: (issue) =>
          issue.input === undefined
            ? `${label} is required`
            : typeof issue.input === "number" && !Number.isNaN(issue.input)
              ? `${label} must be a finite number`
              : `${label} must be a number`,
      }),
  );
}

function formInteger(label: string, min: number, max: number) {
  return formNumber(label).pipe(
    z
      .number()
      .int(`${label} must be a whole number`)
      .min(min, `${label} must be between ${min} and ${max}`)
      .max(max, `${label} must be between ${min} and ${max}`),
  );
}

/** What a render depends on: two saves with equal params produce the same picture. */
export const renderParamsSchema = z.object({
  re: formNumber("Real part"),
  im: formNumber("Imaginary part"),
  depth: formInteger("Depth", LIMITS.depth.min, LIMITS.depth.max),
  width: formInteger("Width", LIMITS.size.min, LIMITS.size.max),
  height: formInteger("Height", LIMITS.size.min, LIMITS.size.max),
  zoom: formNumber("Zoom").pipe(z.number().positive("Zoom must be greater than 0")),
  cx: formNumber("Center X"),
  cy: formNumber("Center Y"),
  colormap: z.enum(COLORMAP_NAMES, { error: `Colormap must be one of ${COLORMAP_NAMES.join(", ")}` }),
});

export const configurationInputSchema = renderParamsSchema.extend({
  name: z
    .string({ error: "Name is required" })
    .trim()
    .min(1, "Name is required")
    .max(LIMITS.nameMaxLength, `Name must be at most ${LIMITS.nameMaxLength} characters`)
    .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "Name must not contain control characters")
    .superRefine(refuseHiddenCharacters("Name")),
});

export type RenderParams = z.output<typeof renderParamsSchema>;
export type ConfigurationInput = z.output<typeof configurationInputSchema>;
export type ConfigurationField = keyof ConfigurationInput;

export const idSchema = z.uuid();

/** The params of a page or route named by one id (`[id]`). */
export const idParamsSchema = z.object({ id: idSchema });
