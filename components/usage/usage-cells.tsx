import type { UsageFigures } from "@/db/queries/usage";
import { formatBytes, formatSeconds } from "@/lib/format";

/** The cost columns shared by the usage page and the admins' usage table: attempts, CPU, wall, read, written. */
export function UsageCells({ figures }: { figures: Omit<UsageFigures, "jobs"> }) {
  const cells = [figures.attempts, formatSeconds(figures.cpuMs), formatSeconds(figures.wallMs), formatBytes(figures.bytesRead), formatBytes(figures.bytesWritten)];
  return cells.map((cell, index) => (
    <td key={index} className="px-3 py-2">
      {cell}
    </td>
  ));
}
