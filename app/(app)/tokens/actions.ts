"use server";

import { revalidatePath } from "next/cache";
import { db } from "@/db";
import { createApiToken, MAX_ACTIVE_TOKENS, revokeApiToken } from "@/db/queries/api-tokens";
import { withActionUser } from "@/server/auth/guards";
import { tokenIdSchema, tokenNameSchema } from "@/lib/validation/api-token";
import { formEntries } from "@/lib/validation/form-data";

export type CreateTokenState = { error?: string; submission?: number; created?: { name: string; token: string } };

/** Creates a personal API token and shows it once (only its hash is kept). */
export const createTokenAction = withActionUser(async (user, _previous: CreateTokenState, formData: FormData): Promise<CreateTokenState> => {
  const submission = Date.now();
  const name = tokenNameSchema.safeParse(formEntries(formData).find(([key]) => key === "name")?.[1]);
  if (!name.success) return { error: name.error.issues[0].message, submission };
  const created = await createApiToken(db, { ownerId: user.id, name: name.data });
  if (!created.ok) return { error: `You can hold ${MAX_ACTIVE_TOKENS} tokens at once; revoke one first`, submission };
  revalidatePath("/tokens");
  return { submission, created: { name: name.data, token: created.token } };
});

export const revokeTokenAction = withActionUser(async (user, tokenId: string): Promise<{ ok: boolean }> => {
  if (!tokenIdSchema.safeParse(tokenId).success) return { ok: false };
  const ok = await revokeApiToken(db, { id: tokenId, ownerId: user.id });
  revalidatePath("/tokens");
  return { ok };
});
