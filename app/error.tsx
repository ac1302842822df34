"use client";

import Link from "next/link";
import { useEffect } from "react";

/** Whatever a page throws: a readable page and a way to try again (the details are in the server's log). */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => console.error(error), [error]);
  return (
    <main className="mx-auto max-w-md p-10 text-center">
      <h1 className="text-2xl font-semibold">Something went wrong</h1>
      <p className="mt-2 text-slate-600">This page could not be shown just now. Nothing you saved is lost; try again in a moment.</p>
      {error.digest && <p className="mt-2 font-mono text-xs text-slate-500">Reference: {error.digest}</p>}
      <div className="mt-6 flex justify-center gap-3">
        <button type="button" className="button button-primary" onClick={reset}>
          Try again
        </button>
        <Link className="button" href="/configurations">
          Back to your configurations
        </Link>
      </div>
    </main>
  );
}
