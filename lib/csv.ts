/** One CSV field: RFC 4180 quoting, and a leading =, +, - or @ neutralised so spreadsheets don't run it as a formula. */
export function csvField(value: string | number) {
  if (typeof value === "number") return String(value);
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const csvRow = (fields: (string | number)[]) => fields.map(csvField).join(",");
