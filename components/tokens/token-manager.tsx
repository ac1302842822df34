"use client";

import { useActionState, useTransition } from "react";
import { toast } from "sonner";
import { createToken, revokeToken } from "@/app/(app)/tokens/actions";
import type { ApiTokenView } from "@/db/queries/api-tokens";
import { describedBy, Field } from "../form-field";

/** Create personal API tokens (each shown once), see when they were last used, revoke them. */
export function TokenManager({ tokens }: { tokens: ApiTokenView[] }) {
  const [state, formAction, isPending] = useActionState(createToken, {});
  const [isRevoking, startRevoking] = useTransition();
  const revoke = (token: ApiTokenView) =>
    startRevoking(async () => {
      const outcome = await revokeToken(token.id);
      if (outcome.formError) toast.error(outcome.formError);
      else toast.success(`Revoked “${token.name}”`);
    });

  return (
    <div className="space-y-6">
      <form key={state.submission ?? 0} action={formAction} noValidate className="flex flex-wrap items-end gap-3" aria-label="New token">
        <div className="min-w-64 flex-1">
          <Field name="name" label="Token name" error={state.fieldErrors?.name?.[0]}>
            <input
              id="name"
              name="name"
              className="input w-full"
              placeholder="laptop script"
              maxLength={100}
              {...describedBy("name", state.fieldErrors?.name?.[0])}
            />
          </Field>
        </div>
        <button type="submit" className="button button-primary" disabled={isPending}>
          Create token
        </button>
      </form>

      {state.data && (
        <div role="status" className="space-y-2 rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-sm">
          <p className="font-medium">Token “{state.data.name}” created. Copy it now: it is not shown again.</p>
          <code data-testid="new-token" className="block break-all rounded bg-white p-2 font-mono">
            {state.data.token}
          </code>
          <p className="text-slate-600">
            Send it as <code>Authorization: Bearer …</code> to the API under /api/v1.
          </p>
        </div>
      )}

      <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Tokens">
        {tokens.length === 0 && <li className="p-4 text-sm text-slate-600">No tokens yet.</li>}
        {tokens.map((token) => (
          <li key={token.id} data-testid="token" className="flex items-center gap-4 p-3 text-sm">
            <div className="min-w-0 flex-1">
              <p className="font-medium">{token.name}</p>
              <p className="text-slate-500" suppressHydrationWarning>
                <code>{token.prefix}…</code> · created {new Date(token.createdAt).toLocaleString()} ·{" "}
                {token.lastUsedAt ? `last used ${new Date(token.lastUsedAt).toLocaleString()}` : "never used"}
                {token.revokedAt && ` · revoked ${new Date(token.revokedAt).toLocaleString()}`}
              </p>
            </div>
            {!token.revokedAt && (
              <button type="button" className="button" disabled={isRevoking} onClick={() => revoke(token)}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
