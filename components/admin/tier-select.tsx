"use client";

import { useTransition } from "react";
import { toast } from "sonner";
import { changeUserTier } from "@/app/(app)/admin/actions";

/** Changes a person's tier at once; their next save follows the new limits and priority. */
export function TierSelect({ userId, email, tier }: { userId: string; email: string; tier: "free" | "pro" }) {
  const [isPending, startTransition] = useTransition();
  return (
    <select
      aria-label={`Tier of ${email}`}
      className="input w-28"
      defaultValue={tier}
      disabled={isPending}
      onChange={(event) => {
        const next = event.currentTarget.value as typeof tier;
        startTransition(async () => {
          const outcome = await changeUserTier(userId, next);
          if (outcome.formError) toast.error(outcome.formError);
          else toast.success(`${email} is now ${next}`);
        });
      }}
    >
      <option value="free">free</option>
      <option value="pro">pro</option>
    </select>
  );
}
