import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostileActionArgument } from "@/lib/test/arbitraries";
import { formEntries, formValues } from "./form-data";

describe("formEntries", () => {
  it("gives a form's entries in order, repeated fields and files included", () => {
    const form = new FormData();
    form.append("email", "a@example.test");
    form.append("email", "b@example.test");
    const file = new File(["x"], "x.txt");
    form.append("file", file);
    expect(formEntries(form)).toEqual([
      ["email", "a@example.test"],
      ["email", "b@example.test"],
      ["file", expect.any(File)],
    ]);
  });

  it("reads anything else a script can send in a form's place as an empty form, never throwing", () => {
    fc.assert(
      fc.property(hostileActionArgument(), (value) => {
        expect(formEntries(value)).toEqual([]);
      }),
    );
    expect(formEntries([["email", "a@example.test"]])).toEqual([]);
  });
});

describe("formValues", () => {
  it("gives the person's text fields, the last of a repeated one, without React's $ACTION fields or files", () => {
    const form = new FormData();
    form.append("$ACTION_REF_1", "");
    form.append("name", "first");
    form.append("name", "second");
    form.append("depth", "256");
    form.append("email", new File(["a@example.test"], "email.txt"));
    expect(formValues(form)).toEqual({ name: "second", depth: "256" });
    expect(formValues(null)).toEqual({});
  });

  it("reads a file sent in a text field's place as a missing field", () => {
    const form = new FormData();
    form.append("name", new Blob(["bytes"]), "name.txt");
    form.append("depth", "256");
    expect(formValues(form)).toEqual({ depth: "256" });
  });
});
