import type { JobHelpers, Task } from "graphile-worker";
import { describe, expect, it } from "vitest";
import { formatDuration } from "@/lib/format";
import { timeLimitExceeded, TimeLimitExceeded, withTimeLimit } from "./time-limit";

/** What withTimeLimit uses of graphile-worker's helpers; the statements it runs are recorded. */
function jobHelpers(shutdown = new AbortController()) {
  const statements: { text: string; values: unknown[] }[] = [];
  const logged: string[] = [];
  const helpers = {
    abortSignal: shutdown.signal,
    abortPromise: new Promise<void>(() => {}),
    job: { id: "42", task_identifier: "example", attempts: 1, max_attempts: 5 },
    logger: { error: (message: string) => logged.push(message) },
    withPgClient: async (callback: (client: unknown) => Promise<unknown>) =>
      callback({ query: async (text: string, values: unknown[]) => statements.push({ text, values }) }),
  } as unknown as JobHelpers;
  return { helpers, statements, logged, shutdown };
}

const never = () => new Promise<never>(() => {});

describe("withTimeLimit", () => {
  it("lets a task that ends in time end as it does: its result, or its own error", async () => {
    const { helpers, statements } = jobHelpers();
    let seen: AbortSignal | undefined;
    const succeeding: Task = async (_payload, taskHelpers) => {
      seen = taskHelpers.abortSignal;
    };
    await expect(withTimeLimit(succeeding, 60_000)({}, helpers)).resolves.toBeUndefined();
    expect(seen?.aborted).toBe(false);

    const failing: Task = async () => {
      throw new Error("the task's own error");
    };
    await expect(withTimeLimit(failing, 60_000)({}, helpers)).rejects.toThrow("the task's own error");
    expect(statements).toEqual([]); // retried as usual
  });

  it("at the limit, aborts the task's signal with the reason, waits for it to stop, and fails the job for good", async () => {
    const { helpers, statements } = jobHelpers();
    const order: string[] = [];
    const stopsWhenAsked: Task = async (_payload, taskHelpers) => {
      await new Promise<void>((resolve) => taskHelpers.abortSignal.addEventListener("abort", () => resolve(), { once: true }));
      expect(timeLimitExceeded(taskHelpers)?.message).toBe("Timed out after 20 ms");
      await new Promise((resolve) => setTimeout(resolve, 10)); // recording its failure
      order.push("task stopped");
      throw timeLimitExceeded(taskHelpers) ?? new Error("aborted without a TimeLimitExceeded reason");
    };
    const outcome = Promise.resolve(withTimeLimit(stopsWhenAsked, 20)({}, helpers)).catch((error: unknown) => {
      order.push("job failed");
      return error;
    });
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeLimitExceeded);
    expect((error as Error).message).toBe("Timed out after 20 ms");
    expect(order).toEqual(["task stopped", "job failed"]);
    expect(statements).toEqual([{ text: expect.stringContaining("set max_attempts = attempts"), values: ["42"] }]);
  });

  it("fails the job at the limit even when the task ignores its signal, once the grace is over", async () => {
    const { helpers, logged } = jobHelpers();
    await expect(withTimeLimit(never, 20, 10)({}, helpers)).rejects.toThrow("Timed out after 20 ms");
    expect(logged).toEqual([expect.stringContaining("did not stop within 10 ms of its time limit")]);
  });

  it("passes a worker shutdown on to the task, which is not a time limit", async () => {
    const { helpers, shutdown } = jobHelpers();
    const handsBack: Task = async (_payload, taskHelpers) => {
      setTimeout(() => shutdown.abort(new Error("shutting down")), 5);
      await new Promise<void>((resolve) => taskHelpers.abortSignal.addEventListener("abort", () => resolve(), { once: true }));
      expect(taskHelpers.abortSignal.reason).toEqual(new Error("shutting down"));
      expect(timeLimitExceeded(taskHelpers)).toBeUndefined();
      await expect(taskHelpers.abortPromise).rejects.toThrow("shutting down");
    };
    await expect(withTimeLimit(handsBack, 60_000)({}, helpers)).resolves.toBeUndefined();
  });
});

describe("formatDuration", () => {
  it("says a configured duration in its largest whole unit", () => {
    expect([7_200_000, 5_400_000, 900_000, 2_000, 1_500, 20].map(formatDuration)).toEqual([
      "2 h",
      "90 min",
      "15 min",
      "2 s",
      "1500 ms",
      "20 ms",
    ]);
  });
});
