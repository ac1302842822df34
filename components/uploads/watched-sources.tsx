"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useActionState, useEffect, useRef, useTransition } from "react";
import { toast } from "sonner";
import { unwatchSource, watchSource } from "@/app/(app)/uploads/actions";
import type { WatchedSourceView } from "@/db/queries/watched-sources";
import type { WatchIntervalMinutes } from "@/db/schema";
import type { WatchSourceField } from "@/lib/validation/watched-source";
import { describedBy, Field } from "../form-field";
import { queryKeys } from "../query-client";

/** Read as "Check every …"; typed by the allowed intervals, so a new one cannot be left out. */
const INTERVAL_LABELS: Record<WatchIntervalMinutes, string> = { 5: "5 minutes", 15: "15 minutes", 60: "hour", 360: "6 hours", 1440: "day" };
const INTERVALS = Object.entries(INTERVAL_LABELS).map(([minutes, label]) => ({ minutes, label }));

/** While a source waits for its first check (within a minute, from the crontab), the page refreshes this often. */
const FIRST_CHECK_POLL_MS = 5000;

/**
 * URLs the worker fetches periodically; each new version becomes one of the
 * person's files. Admins may watch one for everyone (`canShare`): its versions
 * are shared files that every signed-in person sees.
 */
export function WatchedSources({ sources, canShare }: { sources: WatchedSourceView[]; canShare: boolean }) {
  const [state, formAction, isPending] = useActionState(watchSource, {});
  const errorOf = (name: WatchSourceField) => state.fieldErrors?.[name]?.[0];
  useFirstChecks(sources);

  return (
    <div className="space-y-3">
      <form key={state.submission ?? 0} action={formAction} noValidate className="space-y-3" aria-label="Watch a URL">
        {state.formError && (
          <p role="alert" className="rounded-md bg-red-50 p-2 text-sm text-red-700">
            {state.formError}
          </p>
        )}
        <div className="flex flex-wrap items-start gap-3">
          <div className="min-w-64 flex-1">
            <Field name="url" label="URL" error={errorOf("url")}>
              <input
                id="url"
                name="url"
                type="url"
                inputMode="url"
                placeholder="https://example.com/data.csv"
                className="input w-full"
                defaultValue={state.values?.url ?? ""}
                {...describedBy("url", errorOf("url"))}
              />
            </Field>
          </div>
          <Field name="intervalMinutes" label="Check every" error={errorOf("intervalMinutes")}>
            <select id="intervalMinutes" name="intervalMinutes" className="input" defaultValue={state.values?.intervalMinutes ?? "60"}>
              {INTERVALS.map(({ minutes, label }) => (
                <option key={minutes} value={minutes}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" className="button mt-6" disabled={isPending}>
            {isPending ? "Adding…" : "Watch"}
          </button>
        </div>
        {canShare && (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="isShared" defaultChecked={state.values?.isShared === "on"} />
            For everyone: every signed-in person sees its versions under Shared files
          </label>
        )}
        <p className="text-xs text-slate-500">Each new version is stored as one of your files and processed like an upload.</p>
      </form>
      {sources.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 p-4 text-center text-sm text-slate-600">Not watching any URL yet.</p>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Watched sources">
          {sources.map((source) => (
            <WatchedSourceItem key={source.id} source={source} />
          ))}
        </ul>
      )}
    </div>
  );
}

function WatchedSourceItem({ source }: { source: WatchedSourceView }) {
  const [isRemoving, startRemoving] = useTransition();
  const stopWatching = () =>
    startRemoving(async () => {
      const outcome = await unwatchSource(source.id);
      if (outcome.formError) toast.error(outcome.formError);
    });
  const isFailed = source.lastStatus?.startsWith("Failed") ?? false;
  return (
    <li data-testid="watched-source" className="flex items-start justify-between gap-4 p-3 text-sm">
      <div className="min-w-0 space-y-1">
        <a
          href={source.url}
          target="_blank"
          rel="noopener noreferrer nofollow"
          className="block break-all font-medium text-indigo-700 hover:underline"
        >
          {source.url}
        </a>
        <p className="text-slate-600">
          {source.isShared && <span className="mr-1 rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-700">for everyone</span>}
          Every {INTERVAL_LABELS[source.intervalMinutes]} · {source.versions} {source.versions === 1 ? "version" : "versions"} · Last
          checked{" "}
          {source.lastCheckedAt ? (
            <time dateTime={source.lastCheckedAt} suppressHydrationWarning>
              {new Date(source.lastCheckedAt).toLocaleString()}
            </time>
          ) : (
            "not yet"
          )}
        </p>
        <p className={isFailed ? "text-red-700" : "text-slate-700"} data-testid="watched-source-status">
          {source.lastStatus ?? "Waiting for the first check (within a minute)"}
        </p>
        {source.lastUploadId && (
          <Link href={`/uploads/${source.lastUploadId}`} className="text-indigo-700 hover:underline">
            Latest version
          </Link>
        )}
      </div>
      <button type="button" className="button shrink-0" disabled={isRemoving} onClick={stopWatching}>
        Stop watching
      </button>
    </li>
  );
}

/**
 * A new source is checked within a minute: refresh the page until it has been,
 * and when a check stored a version, refetch "Your files" (which then polls
 * while it is processed).
 */
function useFirstChecks(sources: WatchedSourceView[]) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const isAwaitingFirstCheck = sources.some((source) => source.lastCheckedAt === null);
  useEffect(() => {
    if (!isAwaitingFirstCheck) return;
    const timer = setInterval(() => router.refresh(), FIRST_CHECK_POLL_MS);
    return () => clearInterval(timer);
  }, [isAwaitingFirstCheck, router]);

  const versions = sources.reduce((sum, source) => sum + source.versions, 0);
  const seenVersions = useRef(versions);
  useEffect(() => {
    if (versions > seenVersions.current) void queryClient.invalidateQueries({ queryKey: queryKeys.uploads });
    seenVersions.current = versions;
  }, [versions, queryClient]);
}
