/**
 * A server action's form argument as its entries. Actions are public endpoints, and a script
 * can send any value in the form's place (a list, an object, null): anything but a FormData
 * reads as an empty form, so the action refuses it like one instead of throwing (a 500).
 */
export const formEntries = (formData: unknown): [string, FormDataEntryValue][] => (formData instanceof FormData ? [...formData] : []);

/**
 * A form's text fields, for validation and to show back, without React's own `$ACTION_…` fields.
 * A file sent in a text field's place is no value (the field reads as missing), not "[object File]".
 */
export const formValues = (formData: unknown): Record<string, string> =>
  Object.fromEntries(
    formEntries(formData).filter((entry): entry is [string, string] => typeof entry[1] === "string" && !entry[0].startsWith("$")),
  );
