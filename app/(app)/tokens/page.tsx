import { db } from "@/db";
import { listApiTokens } from "@/db/queries/api-tokens";
import { TokenManager } from "@/components/tokens/token-manager";
import { requireUser } from "@/server/auth/guards";

export const metadata = { title: "API tokens" };

export default async function TokensPage() {
  const user = await requireUser();
  const tokens = await listApiTokens(db, { ownerId: user.id });
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">API tokens</h1>
        <p className="mt-1 text-sm text-slate-600">
          Personal tokens let your scripts use the Jobs API as you. Keep them secret; revoke one you no longer use.
        </p>
      </div>
      <TokenManager tokens={tokens} />
    </div>
  );
}
