import { withApiToken } from "@/server/auth/guards";

/** Who a token belongs to: what `longrun login` checks a token with. */
export const GET = withApiToken(async (_request, { user }) =>
  Response.json({ id: user.id, email: user.email, tier: user.tier }, { headers: { "Cache-Control": "no-store" } }),
);
