import { db } from "@/db";
import { listMonthlyUsageByUser } from "@/db/queries/usage";
import { withAdmin } from "@/server/auth/guards";
import { csvRow } from "@/lib/csv";
import { attachmentDisposition } from "@/lib/http";

/** Everyone's usage this month as CSV; non-admins get the same 404 as a missing route. */
export const GET = withAdmin(async () => {
  const rows = await listMonthlyUsageByUser(db);
  const header = csvRow(["email", "renders", "upload_steps", "attempts", "cpu_ms", "wall_ms", "bytes_read", "bytes_written"]);
  const lines = rows.map((row) =>
    csvRow([row.email, row.renders, row.uploadSteps, row.attempts, row.cpuMs, row.wallMs, row.bytesRead, row.bytesWritten]),
  );
  const month = new Date().toISOString().slice(0, 7);
  return new Response([header, ...lines].join("\r\n") + "\r\n", {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": attachmentDisposition(`longrun-usage-${month}.csv`),
      "Cache-Control": "no-store",
    },
  });
});
