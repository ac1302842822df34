import { unstable_rethrow } from "next/navigation";
import { z } from "zod";
import { requireUser, type SignedInUser } from "@/server/auth/guards";
import { formValues } from "@/lib/validation/form-data";

/**
 * What every server action answers, and what `useActionState` keeps between submissions.
 * `Field` names the form's fields, `Data` what a success carries.
 */
export type ActionState<Field extends string = never, Data = undefined> = {
  fieldErrors?: Partial<Record<Field, string[]>>;
  formError?: string;
  /** What the person typed, so a rejected form keeps their input. */
  values?: Record<string, string>;
  /** Changes on every submission of a form (the form remounts with `values`). */
  submission?: number;
  data?: Data;
};

/** Who may call an action: anyone (signing in), a signed-in user, or an admin. */
type Role = "anyone" | "user" | "admin";
type UserOf<R extends Role> = R extends "anyone" ? null : SignedInUser;
/** Every key of every member of a union (a form schema may be a discriminated union). */
type KeyOf<T> = T extends unknown ? Extract<keyof T, string> : never;

type Options<R extends Role, Args extends z.ZodTuple, Form extends z.ZodType | undefined> = {
  role: R;
  /** The action's arguments; a form action's are bound before its form (`action.bind(null, …)`). */
  args?: Args;
  /** A form action's fields, parsed from its FormData (anything else in its place reads as an empty form). */
  form?: Form;
  /** The answer to arguments that do not parse: as for something that does not exist, or not theirs. */
  refusal?: string;
  /** Form fields never sent back with `values` (passwords). */
  secretFields?: readonly string[];
};
type Input<Args extends z.ZodTuple, Form> = { args: z.output<Args>; form: Form extends z.ZodType ? z.output<Form> : undefined };
type Field<Form> = Form extends z.ZodType ? KeyOf<z.input<Form>> : never;
type Action<Args extends z.ZodTuple, Form, State> = Form extends z.ZodType
  ? (...args: [...z.input<Args>, previous: State, formData: FormData]) => Promise<State>
  : (...args: z.input<Args>) => Promise<State>;

/** Said when an action's body fails: actions run in one transaction, so nothing changed. */
export const ACTION_FAILED = "Something went wrong on our side; nothing was changed; try again";
/** What a caller without the role hears: the same as for something that does not exist. */
const NOT_FOUND = "Not found";

/**
 * Defines a server action (Next treats each one as a public endpoint): authenticates (signed out:
 * to sign in), authorizes the role, parses the arguments and the form, runs `body`, and answers
 * one ActionState. A body that throws is logged and answered with ACTION_FAILED; Next's own
 * redirect and notFound still propagate.
 */
export function defineAction<
  R extends Role,
  Form extends z.ZodType | undefined = undefined,
  Data = undefined,
  Args extends z.ZodTuple = z.ZodTuple<[], null>,
>(
  options: Options<R, Args, Form>,
  body: (input: Input<Args, Form>, user: UserOf<R>) => Promise<ActionState<Field<Form>, Data>>,
): Action<Args, Form, ActionState<Field<Form>, Data>> {
  const argsSchema = options.args ?? z.tuple([]);
  const arity = argsSchema.def.items.length;
  return async (...raw: unknown[]): Promise<ActionState<Field<Form>, Data>> => {
    const user = (options.role === "anyone" ? null : await requireUser()) as UserOf<R>;
    const formState = options.form ? { values: shownValues(raw[arity + 1], options.secretFields), submission: Date.now() } : {};
    if (options.role === "admin" && user?.role !== "admin") return { formError: NOT_FOUND, ...formState };
    const args = argsSchema.safeParse(raw.slice(0, arity));
    if (!args.success) return { formError: options.refusal ?? NOT_FOUND, ...formState };
    let form: unknown;
    if (options.form) {
      const parsed = options.form.safeParse(formValues(raw[arity + 1]));
      if (!parsed.success) return { fieldErrors: z.flattenError(parsed.error).fieldErrors, ...formState };
      form = parsed.data;
    }
    try {
      return { ...formState, ...(await body({ args: args.data, form } as Input<Args, Form>, user)) };
    } catch (error) {
      unstable_rethrow(error);
      console.error("A server action failed", error);
      return { formError: ACTION_FAILED, ...formState };
    }
  };
}

function shownValues(formData: unknown, secretFields: readonly string[] = []) {
  return Object.fromEntries(Object.entries(formValues(formData)).filter(([name]) => !secretFields.includes(name)));
}
