import type { z } from "zod";

/**
 * Characters a name can hide behind: bidi overrides and isolates (U+202E shows "exe.gnp" as
 * "png.exe"), zero-width ones (two names that look the same), and other invisible format
 * characters and line separators: Unicode's Cf, Zl and Zp, as upload names treat them.
 */
const HIDDEN_CHARACTER = /[\p{Cf}\p{Zl}\p{Zp}]/u;

const codePoint = (character: string) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** A zod refinement refusing hidden characters in a name, naming the first one found. */
export const refuseHiddenCharacters =
  (subject: string) =>
  (name: string, context: z.RefinementCtx): void => {
    const found = HIDDEN_CHARACTER.exec(name)?.[0];
    if (found) {
      context.addIssue({
        code: "custom",
        message: `${subject} must not contain invisible or text-direction characters (found ${codePoint(found)})`,
      });
    }
  };

export const hasHiddenCharacters = (name: string) => HIDDEN_CHARACTER.test(name);
