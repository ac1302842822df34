import type { User } from "@/db/schema";
import type { RequestDoor } from "./rate-limits";

export type Tier = User["tier"];

const GiB = 1024 ** 3;

/**
 * What each tier may do. Priority: graphile-worker runs smaller numbers first,
 * so pro work starts before free work; within a tier, each unfinished render a
 * person already has pushes their next one back (fairness between people).
 * Storage: what a person's files (uploads, however they came) may add up to.
 * Requests a minute are per person and door (lib/rate-limits.ts), whatever
 * token or session they come with; WebDAV's is ten times the API's, since a
 * mounted drive sends a request per file.
 */
export const TIER_LIMITS: Record<
  Tier,
  {
    label: string;
    maxUnfinishedRenders: number;
    maxPixels: number;
    basePriority: number;
    requestsPerMinute: Record<RequestDoor, number>;
    maxStorageBytes: number;
    maxStorageFiles: number;
  }
> = {
  free: {
    label: "free",
    maxUnfinishedRenders: 3,
    maxPixels: 4096 * 2048,
    basePriority: 100,
    requestsPerMinute: { api: 120, webdav: 1200 },
    maxStorageBytes: 1 * GiB,
    maxStorageFiles: 1_000,
  },
  pro: {
    label: "pro",
    maxUnfinishedRenders: 20,
    maxPixels: 4096 * 4096,
    basePriority: 0,
    requestsPerMinute: { api: 1200, webdav: 12000 },
    maxStorageBytes: 50 * GiB,
    maxStorageFiles: 100_000,
  },
};

/** Renders with more pixels than this go to the dedicated "large" queue (special hardware). */
export const DEFAULT_LARGE_RENDER_PIXELS = 4096 * 2048;

export function renderPriority(tier: Tier, unfinishedRenders: number) {
  return TIER_LIMITS[tier].basePriority + unfinishedRenders;
}

/**
 * Upload steps share the workers the same way: base + the person's unfinished
 * upload steps when the step is queued, so someone else's first step or render
 * goes before the rest of a bulk upload. Counted up to 99: pro work (0-99) stays
 * ahead of free work (100-199), and the number stays far inside graphile-worker's
 * smallint however many files one person sends.
 */
export const MAX_COUNTED_UPLOAD_STEPS = 99;

export function uploadStepPriority(tier: Tier, unfinishedSteps: number) {
  return TIER_LIMITS[tier].basePriority + Math.min(unfinishedSteps, MAX_COUNTED_UPLOAD_STEPS);
}

export const formatMegapixels = (pixels: number) => `${(pixels / 1_000_000).toFixed(1)} MP`;
