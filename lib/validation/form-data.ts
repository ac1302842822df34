/**
 * A server action's form argument as its entries. Actions are public endpoints, and a script
 * can send any value in the form's place (a list, an object, null): anything but a FormData
 * reads as an empty form, so the action refuses it like one instead of throwing (a 500).
 */
export const formEntries = (formData: unknown): [string, FormDataEntryValue][] => (formData instanceof FormData ? [...formData] : []);
