"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { UsageDay } from "@/db/queries/usage";

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** CPU seconds per day of the month, renders and upload processing stacked. */
export function UsageChart({ days }: { days: UsageDay[] }) {
  const data = days.map((day) => ({ day: day.day.slice(5), renders: seconds(day.renderCpuMs), uploads: seconds(day.uploadCpuMs) }));
  return (
    <div className="h-56 w-full" role="img" aria-label="CPU seconds per day this month">
      <ResponsiveContainer>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="day" fontSize={12} />
          <YAxis fontSize={12} unit=" s" width={56} />
          <Tooltip formatter={(value, name) => [`${String(value)} s`, name]} />
          <Legend />
          <Bar dataKey="renders" name="Renders" stackId="cpu" fill="#4f46e5" />
          <Bar dataKey="uploads" name="Upload processing" stackId="cpu" fill="#10b981" radius={[3, 3, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
