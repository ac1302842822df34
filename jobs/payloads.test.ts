import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostileJson, hostileRecord } from "@/lib/test/arbitraries";
import { taskPayloads, type TaskName } from "./payloads";

// Property tests of the task payload schemas (jobs/payloads.fuzz.integration.test.ts sends the same kind of payloads to real workers).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tasks = Object.keys(taskPayloads) as TaskName[];
const idField: Partial<Record<TaskName, "resultId" | "uploadId">> = {
  render: "resultId",
  render_large: "resultId",
  upload_checksum: "uploadId",
  upload_type: "uploadId",
  upload_thumbnail: "uploadId",
};

describe("task payloads", () => {
  it.each(tasks)("%s: never throws; an accepted payload is an object, with a UUID where the task needs an id", (task) => {
    fc.assert(
      fc.property(fc.oneof(hostileJson(), hostileRecord(["resultId", "uploadId", "_cron"])), (payload) => {
        const parsed = taskPayloads[task].safeParse(payload);
        if (!parsed.success) return;
        expect(typeof parsed.data === "object" && parsed.data !== null && !Array.isArray(parsed.data)).toBe(true);
        const field = idField[task];
        // Only the id comes out: nothing else a forged payload carried reaches the handler.
        if (field) expect(parsed.data).toEqual({ [field]: expect.stringMatching(UUID) });
      }),
      { numRuns: 500 },
    );
  });

  it.each(Object.entries(idField))("%s: accepts what enqueue sends, unchanged", (task, field) => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(taskPayloads[task as TaskName].parse(JSON.parse(JSON.stringify({ [field]: id })))).toEqual({ [field]: id });
      }),
      { numRuns: 100 },
    );
  });

  it("cron tasks accept graphile-worker's _cron details", () => {
    const cron = { _cron: { ts: "2026-11-24T03:17:00.000Z", backfilled: false } };
    for (const task of ["housekeeping", "run_schedules", "check_sources", "roll_up_usage"] as const)
      expect(taskPayloads[task].parse(cron)).toEqual(cron);
  });
});
