import { redirect } from "next/navigation";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ACTION_FAILED, defineAction } from "./actions";

// The session is next-auth's (a request's cookie); here, whoever the test says is signed in.
const signedIn = vi.hoisted(() => ({ user: { id: "u1", email: "someone@example.test", role: "user" } }));
vi.mock("@/server/auth/guards", () => ({ requireUser: async () => signedIn.user }));

afterEach(() => {
  signedIn.user.role = "user";
  vi.restoreAllMocks();
});

const form = (fields: Record<string, string | Blob>) => {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
};

describe("defineAction", () => {
  const credentials = z.object({ email: z.email("Enter an email"), password: z.string().min(8, "At least 8 characters") });

  it("answers a form that does not parse with each field's errors and what was typed, secrets left out, without running", async () => {
    const body = vi.fn(async () => ({}));
    const signIn = defineAction({ role: "anyone", form: credentials, secretFields: ["password"] }, body);
    const state = await signIn({}, form({ email: "not an email", password: "short", $ACTION_ID_1: "" }));
    expect(state).toEqual({
      fieldErrors: { email: ["Enter an email"], password: ["At least 8 characters"] },
      values: { email: "not an email" },
      submission: expect.any(Number),
    });
    expect(body).not.toHaveBeenCalled();
  });

  it("reads anything but a FormData in the form's place, and files in text fields, as missing fields", async () => {
    const signIn = defineAction({ role: "anyone", form: credentials }, async () => ({}));
    for (const notAForm of [null, 5, "email=a@example.test", [["email", "a@example.test"]], { email: "a@example.test" }]) {
      const state = await (signIn as (...args: unknown[]) => ReturnType<typeof signIn>)({}, notAForm);
      expect(Object.keys(state.fieldErrors ?? {}).sort()).toEqual(["email", "password"]);
    }
    const state = await signIn({}, form({ email: new Blob(["a@example.test"]), password: "long enough" }));
    expect(state.fieldErrors).toEqual({ email: ["Enter an email"] });
  });

  it("refuses arguments that do not parse with its refusal, and runs with the parsed ones and the form", async () => {
    const body = vi.fn(async ({ args: [id], form: fields }: { args: [string | null]; form: { name: string } }) => ({
      data: { id, name: fields.name },
    }));
    const save = defineAction(
      {
        role: "user",
        args: z.tuple([z.uuid().nullable()]),
        form: z.object({ name: z.string().trim().min(1) }),
        refusal: "This does not exist",
      },
      body,
    );
    expect(await save("not-a-uuid", {}, form({ name: "Kept" }))).toEqual({
      formError: "This does not exist",
      values: { name: "Kept" },
      submission: expect.any(Number),
    });
    expect(body).not.toHaveBeenCalled();

    const id = crypto.randomUUID();
    expect(await save(id, {}, form({ name: " Alpha " }))).toEqual({
      data: { id, name: "Alpha" },
      values: { name: " Alpha " },
      submission: expect.any(Number),
    });
    expect(body).toHaveBeenCalledWith({ args: [id], form: { name: "Alpha" } }, signedIn.user);
  });

  it("lets a body clear the form by answering empty values", async () => {
    const watch = defineAction({ role: "user", form: z.object({ url: z.string() }) }, async () => ({ values: {} }));
    expect(await watch({}, form({ url: "https://example.test/" }))).toEqual({ values: {}, submission: expect.any(Number) });
  });

  it("answers anyone but an admin with Not found, before parsing, without running", async () => {
    const body = vi.fn(async () => ({}));
    const retry = defineAction({ role: "admin", args: z.tuple([z.uuid()]) }, body);
    expect(await retry(crypto.randomUUID())).toEqual({ formError: "Not found" });
    expect(body).not.toHaveBeenCalled();
    signedIn.user.role = "admin";
    expect(await retry("not-a-uuid")).toEqual({ formError: "Not found" });
    expect(await retry(crypto.randomUUID())).toEqual({});
    expect(body).toHaveBeenCalledTimes(1);
  });

  it("logs what a body throws and answers that nothing was changed; Next's redirect still propagates", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const failing = defineAction({ role: "user", args: z.tuple([z.string()]) }, async () => {
      throw new Error("connection lost");
    });
    expect(await failing("x")).toEqual({ formError: ACTION_FAILED });
    expect(log).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ message: "connection lost" }));

    const redirecting = defineAction({ role: "user" }, async () => redirect("/uploads"));
    await expect(redirecting()).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT;.*\/uploads/) });
  });
});
