"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ConfigurationStatus } from "@/db/queries/configurations";
import { fetchJson, queryKeys } from "../query-client";
import { isUnfinished, StatusBadge } from "./status-badge";

const POLL_MS = 1000;

export function ConfigurationList({ initial }: { initial: ConfigurationStatus[] }) {
  const { data } = useQuery({
    queryKey: queryKeys.configurationList,
    queryFn: () => fetchJson<{ configurations: ConfigurationStatus[] }>("/api/configurations/status"),
    initialData: { configurations: initial },
    refetchInterval: (query) => (query.state.data?.configurations.some((c) => isUnfinished(c.current)) ? POLL_MS : false),
  });

  if (data.configurations.length === 0) {
    return (
      <div className="rounded-lg border border-dashed border-slate-300 p-10 text-center text-slate-600">
        <p>No configurations yet.</p>
        <Link className="button button-primary mt-4" href="/configurations/new">
          New configuration
        </Link>
      </div>
    );
  }

  return (
    <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Configurations">
      {data.configurations.map((configuration) => (
        <li key={configuration.id} data-testid="configuration-item">
          <Link
            href={`/configurations/${configuration.id}`}
            className="flex gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm hover:border-indigo-300"
          >
            <div className="size-20 shrink-0 overflow-hidden rounded bg-slate-200">
              {configuration.shown?.thumbnailSha256 && (
                <img
                  src={`/api/images/${configuration.shown.thumbnailSha256}`}
                  alt={`Thumbnail of ${configuration.name}`}
                  className={`size-full object-cover ${configuration.shown.isStale ? "opacity-60" : ""}`}
                />
              )}
            </div>
            <div className="min-w-0 space-y-1">
              <p className="truncate font-medium">{configuration.name}</p>
              <StatusBadge result={configuration.current} />
              <p className="text-xs text-slate-500">
                Created {/* Formatted in the reader's locale and time zone, which the server cannot know. */}
                <time dateTime={configuration.createdAt} suppressHydrationWarning>
                  {new Date(configuration.createdAt).toLocaleString()}
                </time>
              </p>
            </div>
          </Link>
        </li>
      ))}
    </ul>
  );
}
