import { createDatabase } from "@/db/client";
import { getEnvOrExit, getWebdavEnv } from "@/lib/env";
import { createWebdavServer } from "./server";

/**
 * The WebDAV process: `npx tsx webdav/main.ts` (`npm start` runs it beside the web).
 * Its own process because Next.js route handlers cannot answer PROPFIND, MKCOL,
 * COPY, MOVE, PROPPATCH or LOCK. Stateless but for LOCKs (in memory), so run one
 * instance, or route each client to the same one.
 */
const env = getEnvOrExit(getWebdavEnv);
const db = createDatabase(env.DATABASE_URL, { max: env.WEBDAV_DATABASE_POOL_MAX, applicationName: "longrun-webdav" });
const server = createWebdavServer({ db, maxUploadBytes: env.UPLOAD_MAX_BYTES });
// Large PUTs take a while: no limit on a whole request, but a connection silent for 5 minutes is closed.
server.requestTimeout = 0;
server.headersTimeout = 60_000;
server.timeout = 5 * 60_000;

server.listen(env.WEBDAV_PORT, env.WEBDAV_HOSTNAME, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.WEBDAV_PORT;
  console.log(`[webdav] listening on http://${env.WEBDAV_HOSTNAME ?? "localhost"}:${port}/`);
});

let isStopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (isStopping) process.exit(1);
    isStopping = true;
    console.log(`[webdav] ${signal}: finishing requests in flight, then exiting`);
    // Requests in flight finish (a PUT commits its upload); idle keep-alive connections close now.
    server.close(() => void db.$client.end({ timeout: 5 }).finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 30_000).unref();
  });
}
