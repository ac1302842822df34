"use client";

import "./globals.css";

/** When the root layout itself fails: it replaces the whole document, so it brings its own <html>. */
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body>
        <main className="mx-auto max-w-md p-10 text-center">
          <h1 className="text-2xl font-semibold">Something went wrong</h1>
          <p className="mt-2 text-slate-600">Longrun could not be shown just now. Nothing you saved is lost; try again in a moment.</p>
          {error.digest && <p className="mt-2 font-mono text-xs text-slate-500">Reference: {error.digest}</p>}
          <button type="button" className="button button-primary mt-6" onClick={reset}>
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
