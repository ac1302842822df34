import { z } from "zod";

// zod probes whether it may compile parsers with `Function(...)`; our CSP has no
// 'unsafe-eval', so in the browser that probe is a reported CSP violation. Imported
// first by the client roots (providers, the sign-in form): parse without compiling.
z.config({ jitless: true });
