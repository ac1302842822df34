import { z } from "zod";
import { refuseHiddenCharacters } from "./names";

export const TOKEN_NAME_MAX_LENGTH = 100;

/** A personal API token's name, as typed on the Tokens page. */
export const tokenNameSchema = z
  .string({ message: "Give the token a name" })
  .trim()
  .min(1, "Give the token a name")
  .max(TOKEN_NAME_MAX_LENGTH, `Names are limited to ${TOKEN_NAME_MAX_LENGTH} characters`)
  // Postgres text cannot hold NUL (the insert would fail), and the others corrupt logs.
  .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "Names must not contain control characters")
  .superRefine(refuseHiddenCharacters("Names"));

export const tokenIdSchema = z.uuid();
