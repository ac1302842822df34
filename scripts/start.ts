import { runLocalStack } from "./lib/local-stack";

/** `npm start` (`npm run dev` with --dev): see scripts/lib/local-stack.ts. */
runLocalStack(process.argv.includes("--dev") ? "dev" : "start");
