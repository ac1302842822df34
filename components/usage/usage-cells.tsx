import type { UsageFigures } from "@/db/queries/usage";
import { formatBytes, formatSeconds } from "@/lib/format";

/** The cost columns shared by the usage page and the admins' usage table: attempts, CPU, wall, read, written. */
export function UsageCells({ figures }: { figures: Omit<UsageFigures, "jobs"> }) {
  const cells = [
    figures.attempts,
    formatSeconds(figures.cpuMs),
    formatSeconds(figures.wallMs),
    formatBytes(figures.bytesRead),
    formatBytes(figures.bytesWritten),
  ];
  return cells.map((cell, index) => (
    <td key={index} className="px-3 py-2">
      {cell}
    </td>
  ));
}

/** The header row of a usage table. */
export function UsageTableHead({ headings }: { headings: string[] }) {
  return (
    <thead className="bg-slate-50 text-left text-slate-600">
      <tr>
        {headings.map((heading) => (
          <th key={heading} className="px-3 py-2 font-medium">
            {heading}
          </th>
        ))}
      </tr>
    </thead>
  );
}
