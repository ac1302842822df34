"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { toast } from "sonner";
import { cancelRenderAsAdmin, cancelUploadStepAsAdmin, retryRenderAsAdmin, retryUploadStepAsAdmin } from "@/app/(app)/admin/actions";
import type { DashboardOverview } from "@/db/queries/dashboard";
import { formatSeconds } from "@/lib/format";
import type { ActionState } from "@/server/actions";
import { fetchJson } from "../query-client";

const POLL_MS = 2000;
const queryKey = ["admin", "overview"] as const;
const STATES = ["queued", "scheduled", "running", "failed"] as const;

export function Dashboard({ initial }: { initial: DashboardOverview }) {
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey,
    queryFn: () => fetchJson<DashboardOverview>("/api/admin/overview"),
    initialData: initial,
    refetchInterval: POLL_MS,
  });
  // Never rejects (a click handler has no one to hand a rejection to): a failed request is a toast too.
  const act = async <A extends string[]>(action: (...args: A) => Promise<ActionState>, args: A, done: string) => {
    try {
      const outcome = await action(...args);
      if (outcome.formError) toast.error(outcome.formError);
      else toast.success(done);
    } catch {
      toast.error("The request failed; try again.");
    }
    await queryClient.invalidateQueries({ queryKey });
  };
  const tasks = [...new Set(data.jobs.map((job) => job.task))];

  return (
    <div className="space-y-6">
      <Section title="Jobs by task and state">
        <table className="w-full text-sm" aria-label="Jobs by task and state">
          <thead className="text-left text-slate-500">
            <tr>
              <th className="py-1 font-medium">Task</th>
              {STATES.map((state) => (
                <th key={state} className="py-1 font-medium capitalize">
                  {state}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tasks.length === 0 && (
              <tr>
                <td colSpan={5} className="py-2 text-slate-500">
                  The queue is empty.
                </td>
              </tr>
            )}
            {tasks.map((task) => (
              <tr key={task} className="border-t border-slate-100">
                <td className="py-1 font-mono">{task}</td>
                {STATES.map((state) => (
                  <td key={state} className="py-1">
                    {data.jobs.find((job) => job.task === task && job.state === state)?.count ?? 0}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </Section>

      <Section title="Last hour (renders, per 5 minutes)">
        <div className="h-48 w-full" role="img" aria-label="Queue depth and finished renders over the last hour">
          <ResponsiveContainer>
            <LineChart data={data.lastHour}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="at" fontSize={12} />
              <YAxis fontSize={12} allowDecimals={false} width={40} />
              <Tooltip />
              <Line type="monotone" dataKey="queued" name="waiting" stroke="#d97706" dot={false} />
              <Line type="monotone" dataKey="finished" name="finished" stroke="#4f46e5" dot={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
        <p className="text-xs text-slate-500">
          Wait (enqueue → start), last 5 minutes: {formatMs(data.lastHour.at(-1)?.avgWaitMs)}; run time:{" "}
          {formatMs(data.lastHour.at(-1)?.avgRunMs)}
        </p>
      </Section>

      <Section title={`Running (${data.running.length})`}>
        <ul className="divide-y divide-slate-100 text-sm" aria-label="Running renders">
          {data.running.map((render) => (
            <li key={render.id} className="flex items-center gap-3 py-1.5">
              <span className="min-w-0 flex-1 truncate">
                <RenderLogLink id={render.id} name={render.configurationName} /> <span className="text-slate-500">({render.email})</span>
              </span>
              <span className="w-12 text-right">{Math.floor(render.progress * 100)}%</span>
              <span className="w-40 truncate font-mono text-xs text-slate-500">{render.workerId}</span>
              <span className="w-16 text-right text-slate-500">{formatSeconds(render.elapsedMs)}</span>
              <button type="button" className="button" onClick={() => void act(cancelRenderAsAdmin, [render.id], "Cancelled")}>
                Cancel
              </button>
            </li>
          ))}
          {data.running.length === 0 && <li className="py-1.5 text-slate-500">Nothing is running.</li>}
        </ul>
      </Section>

      <Section title="Recent failures">
        <ul className="divide-y divide-slate-100 text-sm" aria-label="Recent failures">
          {data.failures.map((failure) => (
            <li key={failure.id} className="flex items-center gap-3 py-1.5">
              <span className="min-w-0 flex-1">
                <RenderLogLink id={failure.id} name={failure.configurationName} />{" "}
                <span className="text-slate-500">
                  ({failure.email}, {failure.attempts} attempts)
                </span>
                <span className="block truncate font-mono text-xs text-red-700">{failure.error}</span>
              </span>
              <button type="button" className="button" onClick={() => void act(retryRenderAsAdmin, [failure.id], "Queued again")}>
                Retry
              </button>
            </li>
          ))}
          {data.failures.length === 0 && <li className="py-1.5 text-slate-500">No failures.</li>}
        </ul>
      </Section>

      <Section title="Upload steps: running and recent failures">
        <ul className="divide-y divide-slate-100 text-sm" aria-label="Upload steps">
          {data.uploadSteps.map((step) => (
            <li key={`${step.uploadId}:${step.step}`} className="flex items-center gap-3 py-1.5">
              <span className="min-w-0 flex-1">
                {step.name} <span className="text-slate-500">({step.email})</span>
                {step.message && (
                  <span className={`block truncate text-xs ${step.status === "failed" ? "text-red-700" : "text-slate-500"}`}>
                    {step.message}
                  </span>
                )}
              </span>
              <span className="w-20 font-mono text-xs">{step.step}</span>
              <span className={`w-16 text-xs ${step.status === "failed" ? "text-red-700" : "text-indigo-700"}`}>{step.status}</span>
              <span className="w-40 truncate font-mono text-xs text-slate-500">{step.workerId}</span>
              <span className="w-16 text-right text-slate-500">{step.elapsedMs === null ? "" : formatSeconds(step.elapsedMs)}</span>
              {step.status === "failed" ? (
                <button
                  type="button"
                  className="button"
                  onClick={() => void act(retryUploadStepAsAdmin, [step.uploadId, step.step], "Queued again")}
                >
                  Retry
                </button>
              ) : (
                <button
                  type="button"
                  className="button"
                  onClick={() => void act(cancelUploadStepAsAdmin, [step.uploadId, step.step], "Cancelled")}
                >
                  Cancel
                </button>
              )}
            </li>
          ))}
          {data.uploadSteps.length === 0 && <li className="py-1.5 text-slate-500">No upload step is running or has failed.</li>}
        </ul>
      </Section>

      <Section title="Workers">
        <ul className="divide-y divide-slate-100 text-sm" aria-label="Workers">
          {data.workers.map((worker) => (
            <li key={worker.id} className="flex items-center gap-3 py-1.5">
              <span className={`size-2 rounded-full ${worker.isAlive ? "bg-emerald-500" : "bg-red-500"}`} aria-hidden />
              <span className="font-mono text-xs">{worker.id}</span>
              <span className="text-slate-500">
                {worker.isAlive ? "alive" : "not heard from"} · {worker.tasks.join(", ")} · concurrency {worker.concurrency}
              </span>
            </li>
          ))}
          {data.workers.length === 0 && <li className="py-1.5 text-slate-500">No worker is running.</li>}
        </ul>
      </Section>

      <Section title="Crontab (UTC)">
        <table className="w-full text-sm" aria-label="Crontab">
          <thead className="text-left text-slate-500">
            <tr>
              <th className="py-1 font-medium">Task</th>
              <th className="py-1 font-medium">Schedule</th>
              <th className="py-1 font-medium">Last run</th>
              <th className="py-1 font-medium">Next run</th>
            </tr>
          </thead>
          <tbody>
            {data.crontab.map((item) => (
              <tr key={item.task} className="border-t border-slate-100">
                <td className="py-1 font-mono">{item.task}</td>
                <td className="py-1 font-mono">{item.pattern}</td>
                <td className="py-1">{formatTime(item.lastRunAt, "never")}</td>
                <td className="py-1">{formatTime(item.nextRunAt, "–")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}

const formatTime = (iso: string | null, otherwise: string) => (iso ? new Date(iso).toLocaleString() : otherwise);
const formatMs = (ms: number | null | undefined) => (ms === null || ms === undefined ? "–" : `${ms} ms`);

/** A render, named by its configuration, linking to its log. */
function RenderLogLink({ id, name }: { id: string; name: string }) {
  return (
    <Link href={`/admin/results/${id}`} className="text-indigo-700 hover:underline">
      {name}
    </Link>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 bg-white p-4">
      <h2 className="text-sm font-medium text-slate-700">{title}</h2>
      {children}
    </section>
  );
}
