// ESLint (flat config). Type-aware: typescript-eslint reads tsconfig.json through the
// project service, so the floating promise that loses a job's error is an error here.
import js from "@eslint/js";
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    ignores: [
      ".next/",
      "node_modules/",
      ".data/",
      "dist/",
      "db/migrations/",
      "bench/.out/",
      "test-results/",
      "playwright-report/",
      "next-env.d.ts",
    ],
  },
  {
    // An eslint-disable comment that no longer disables anything is an error, so none outlives its reason.
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The validators reject control characters on purpose: a regex that matches them is the point, not a typo.
      "no-control-regex": "off",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // Passing on a caught value or a signal's reason as it is (its type unknown) is not making up a non-Error.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
      // An async function without await is how this code meets a Promise-returning interface or writes an async
      // iterable body; dropping `async` would turn its throw into a synchronous one. no-floating-promises guards the rest.
      "@typescript-eslint/require-await": "off",
      // A `let` read by a closure before its one assignment (a handle set once started) cannot be a const.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // `_name` marks a parameter or binding kept for its position (a callback's signature, a destructured rest).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },

  {
    files: ["**/*.test.ts"],
    // Vitest types its asymmetric matchers (expect.any, expect.stringMatching…) as `any`, by design, to fit any field.
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },

  // Globals by where code runs. TypeScript files get theirs from tsconfig (typescript-eslint
  // turns no-undef off there); these matter for the plain JavaScript files.
  {
    // Node: scripts, the worker, WebDAV, the CLI (cli/longrun.mjs), config files, and render
    // threads (lib/render/*.mjs run as worker_threads, where Node's globals are all there).
    files: ["**/*.{ts,mjs}"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Browser code: pages and components (server components also run in Node).
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },

  // React: hooks' rules wherever there is JSX.
  { files: ["**/*.tsx"], extends: [reactHooks.configs.flat.recommended] },

  // Next.js: its recommended and Core Web Vitals rules for the app and its components.
  {
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    plugins: { "@next/next": nextPlugin },
    rules: {
      ...nextPlugin.configs.recommended.rules,
      ...nextPlugin.configs["core-web-vitals"].rules,
      // Images come from /api/images/…, which serves only the signed-in owner's already-sized thumbnails;
      // next/image's optimizer would fetch them server-side without the person's session.
      "@next/next/no-img-element": "off",
    },
  },
);
