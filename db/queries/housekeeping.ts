import { sql } from "drizzle-orm";
import type { Executor } from "../client";

/**
 * Deletes results nobody will look at again (superseded, cancelled or failed,
 * finished before the retention period, and not a configuration's current
 * result), then the blobs no result or upload references any more. Blobs younger than an
 * hour are kept, whatever references them, so nothing in flight loses its bytes.
 */
export async function purgeOldResults(executor: Executor, args: { retentionDays: number }) {
  return executor.transaction(async (tx) => {
    const purgedResults = await tx.execute<{ id: string }>(sql`
      delete from results r
      where r.status in ('superseded', 'cancelled', 'failed')
        and r.finished_at < now() - make_interval(days => ${args.retentionDays})
        and not exists (select 1 from configurations c where c.current_result_id = r.id)
      returning r.id`);
    const purgedBlobs = await tx.execute<{ sha256: string }>(sql`
      delete from blobs b
      where b.created_at < now() - interval '1 hour'
        and not exists (select 1 from results r where r.image_sha256 = b.sha256 or r.thumbnail_sha256 = b.sha256)
        and not exists (select 1 from uploads u where u.thumbnail_sha256 = b.sha256)
      returning b.sha256`);
    return { results: purgedResults.length, blobs: purgedBlobs.length };
  });
}
