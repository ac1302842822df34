"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { toast } from "sonner";
import type { ActivityItem } from "@/db/queries/results";
import { fetchJson, queryKeys } from "./query-client";

type Activity = { since: string; items: ActivityItem[] };

const ACTIVE_POLL_MS = 1000;
const IDLE_POLL_MS = 5000;
/** The cursor trails the newest finish by this much, for commits that land out of order. */
const OVERLAP_MS = 30_000;

/**
 * Present on every page of the app: watches the person's renders and says when
 * one finishes, wherever they are, and refreshes the status queries it affects.
 */
export function ActivityNotifier() {
  const queryClient = useQueryClient();
  const router = useRouter();
  const since = useRef<string | null>(null);
  const announced = useRef(new Set<string>());
  const lastSeen = useRef(new Map<string, string>());

  const { data } = useQuery({
    queryKey: queryKeys.activity,
    queryFn: () => fetchJson<Activity>(`/api/activity${since.current ? `?since=${encodeURIComponent(since.current)}` : ""}`),
    refetchInterval: (query) => (query.state.data?.items.some((item) => item.finishedAt === null) ? ACTIVE_POLL_MS : IDLE_POLL_MS),
    refetchIntervalInBackground: true,
  });

  useEffect(() => {
    if (!data) return;
    since.current ??= data.since; // the database's clock: finishes after the app opened are news
    let hasChanged = false;
    // Move the cursor forward so the answer stays small; `announced` prevents repeats.
    const newest = Math.max(...data.items.map((item) => (item.finishedAt ? Date.parse(item.finishedAt) : 0)));
    if (newest - OVERLAP_MS > Date.parse(since.current)) since.current = new Date(newest - OVERLAP_MS).toISOString();
    for (const item of data.items) {
      const state = `${item.status}`;
      if (lastSeen.current.get(item.id) !== state) hasChanged = true;
      lastSeen.current.set(item.id, state);
      if (item.finishedAt === null || announced.current.has(item.id)) continue;
      announced.current.add(item.id);
      const open = { label: "Open", onClick: () => router.push(`/configurations/${item.configurationId}`) };
      if (item.status === "succeeded") toast.success(`“${item.configurationName}” finished rendering`, { action: open });
      if (item.status === "failed") toast.error(`“${item.configurationName}” failed to render`, { action: open });
    }
    if (hasChanged) void queryClient.invalidateQueries({ queryKey: queryKeys.allConfigurations });
  }, [data, queryClient, router]);

  return null;
}
