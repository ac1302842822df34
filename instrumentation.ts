/**
 * Runs once when a web server starts (not during `next build`, which needs no
 * secrets): a misconfigured web stops at boot, naming each missing or malformed
 * variable, instead of failing on its first request.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getEnvOrExit, getWebEnv } = await import("@/lib/env");
  getEnvOrExit(getWebEnv);
}
