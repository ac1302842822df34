import { z } from "zod";
import { WATCH_INTERVAL_MINUTES } from "@/db/schema/watched-sources";

export const SOURCE_URL_MAX_LENGTH = 2048;

/** A URL to watch: http(s) only, without credentials (they would be stored and shown); normalised, fragment dropped. */
export const sourceUrlSchema = z
  .string({ message: "Enter an http(s) URL" })
  .trim()
  .max(SOURCE_URL_MAX_LENGTH, `URLs are limited to ${SOURCE_URL_MAX_LENGTH} characters`)
  .pipe(z.url({ protocol: /^https?$/, message: "Enter an http(s) URL" }))
  .transform((value) => new URL(value))
  .refine((url) => !url.username && !url.password, "Leave the user name and password out of the URL")
  .transform((url) => {
    url.hash = "";
    return url.href;
  });

export const watchSourceInputSchema = z.object({
  url: sourceUrlSchema,
  intervalMinutes: z.coerce
    .number({ message: "Choose how often" })
    .pipe(z.literal(WATCH_INTERVAL_MINUTES, { message: "Choose how often" })),
  /** A checkbox: "on" when ticked, absent otherwise. Only admins may share. */
  isShared: z
    .literal("on", { message: "Tick the box or leave it" })
    .optional()
    .transform((value) => value === "on"),
});

export type WatchSourceInput = z.infer<typeof watchSourceInputSchema>;
export type WatchSourceField = keyof WatchSourceInput;
export const watchedSourceIdSchema = z.uuid();
