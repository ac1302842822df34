"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { db } from "@/db";
import { createApiToken, MAX_ACTIVE_TOKENS, revokeApiToken } from "@/db/queries/api-tokens";
import { tokenIdSchema, tokenNameSchema } from "@/lib/validation/api-token";
import { defineAction } from "@/server/actions";

/** Creates a personal API token and shows it once (only its hash is kept). */
export const createToken = defineAction({ role: "user", form: z.object({ name: tokenNameSchema }) }, async ({ form }, user) => {
  const created = await createApiToken(db, { ownerId: user.id, name: form.name });
  if (!created.ok) return { fieldErrors: { name: [`You can hold ${MAX_ACTIVE_TOKENS} tokens at once; revoke one first`] } };
  revalidatePath("/tokens");
  return { values: {}, data: { name: form.name, token: created.token } };
});

const NO_SUCH_TOKEN = "This token does not exist or is already revoked";

export const revokeToken = defineAction(
  { role: "user", args: z.tuple([tokenIdSchema]), refusal: NO_SUCH_TOKEN },
  async ({ args: [tokenId] }, user) => {
    if (!(await revokeApiToken(db, { id: tokenId, ownerId: user.id }))) return { formError: NO_SUCH_TOKEN };
    revalidatePath("/tokens");
    return {};
  },
);
