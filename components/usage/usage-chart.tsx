"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { UsageDay } from "@/db/queries/usage";

/** CPU seconds per day of the month. */
export function UsageChart({ days }: { days: UsageDay[] }) {
  const data = days.map((day) => ({ day: day.day.slice(5), cpuSeconds: Math.round(day.cpuMs / 100) / 10 }));
  return (
    <div className="h-56 w-full" role="img" aria-label="CPU seconds per day this month">
      <ResponsiveContainer>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="day" fontSize={12} />
          <YAxis fontSize={12} unit=" s" width={56} />
          <Tooltip formatter={(value) => [`${value} s`, "CPU"]} />
          <Bar dataKey="cpuSeconds" fill="#4f46e5" radius={[3, 3, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
