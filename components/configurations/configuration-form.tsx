"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useActionState, useEffect } from "react";
import { saveConfiguration } from "@/app/(app)/configurations/actions";
import { COLORMAP_NAMES } from "@/lib/render/colormaps";
import type { ConfigurationField, ConfigurationInput } from "@/lib/validation/configuration";
import { describedBy, Field } from "../form-field";
import { queryKeys } from "../query-client";

const NUMBER_FIELDS: { name: Exclude<ConfigurationField, "name" | "colormap">; label: string }[] = [
  { name: "re", label: "Real part" },
  { name: "im", label: "Imaginary part" },
  { name: "depth", label: "Depth" },
  { name: "width", label: "Width" },
  { name: "height", label: "Height" },
  { name: "zoom", label: "Zoom" },
  { name: "cx", label: "Center X" },
  { name: "cy", label: "Center Y" },
];

type Props = { configurationId: string | null; initialValues: ConfigurationInput };

export function ConfigurationForm({ configurationId, initialValues }: Props) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [state, formAction, isPending] = useActionState(saveConfiguration.bind(null, configurationId), {});

  useEffect(() => {
    if (!state.data) return;
    void queryClient.invalidateQueries({ queryKey: queryKeys.allConfigurations });
    void queryClient.invalidateQueries({ queryKey: queryKeys.activity });
    router.refresh(); // the heading and anything else rendered on the server
  }, [state.data, queryClient, router]);

  // After a submit, show what was typed: React resets a form after its action, and a
  // <select> ignores a new defaultValue, so each submission remounts the form.
  const value = (name: ConfigurationField) => state.values?.[name] ?? String(initialValues[name]);
  const errorOf = (name: ConfigurationField) => state.fieldErrors?.[name]?.[0];

  return (
    <form key={state.submission ?? 0} action={formAction} noValidate className="space-y-4" aria-label="Configuration">
      {state.formError && (
        <p role="alert" className="rounded-md bg-red-50 p-2 text-sm text-red-700">
          {state.formError}
        </p>
      )}
      <Field name="name" label="Name" error={errorOf("name")}>
        <input
          id="name"
          name="name"
          className="input"
          defaultValue={value("name")}
          maxLength={100}
          {...describedBy("name", errorOf("name"))}
        />
      </Field>
      <div className="grid grid-cols-2 gap-3">
        {NUMBER_FIELDS.map((field) => (
          <Field key={field.name} name={field.name} label={field.label} error={errorOf(field.name)}>
            <input
              id={field.name}
              name={field.name}
              inputMode="decimal"
              autoComplete="off"
              className="input font-mono"
              defaultValue={value(field.name)}
              {...describedBy(field.name, errorOf(field.name))}
            />
          </Field>
        ))}
      </div>
      <Field name="colormap" label="Colormap" error={errorOf("colormap")}>
        <select
          id="colormap"
          name="colormap"
          className="input"
          defaultValue={value("colormap")}
          {...describedBy("colormap", errorOf("colormap"))}
        >
          {COLORMAP_NAMES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </Field>
      <div className="flex items-center gap-3">
        <button type="submit" className="button button-primary" disabled={isPending}>
          {isPending ? "Saving…" : "Save"}
        </button>
        {state.data && !isPending && (
          <span role="status" className="text-sm text-slate-600">
            {state.data.isNewRender ? "Saved; rendering the new settings" : "Saved; these settings are already rendered"}
          </span>
        )}
      </div>
    </form>
  );
}
