import { z } from "zod";

/**
 * The toasts' poll: `since` is a date-time the server handed out earlier.
 * Postgres timestamps start at year 1 ("0000-01-01T00:00:00Z" passes the ISO
 * pattern but fails in the query), so the instant must fall in years 1–9999.
 */
export const activityQuerySchema = z.object({
  since: z.iso
    .datetime({ offset: true })
    .refine((since) => {
      const year = new Date(since).getUTCFullYear();
      return year >= 1 && year <= 9999;
    }, "since must be between the years 1 and 9999")
    .optional(),
});
