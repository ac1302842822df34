import { runLocalStack } from "./lib/local-stack";

/**
 * `npm run start:production`: the artefacts a deploy ships, built from scratch and
 * run without Docker: `node .next/standalone/server.js` and the bundled workers,
 * after migrations, against DATABASE_URL or the embedded Postgres.
 */
runLocalStack("production");
