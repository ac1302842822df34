/** Refuses to run the e2e suite against anything but a database on this machine. */
export function assertLocalDatabase(url: string | undefined) {
  if (!url) return;
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    throw new Error(`e2e tests create users and data; refusing a non-local database (${host})`);
  }
}
