import type { Metadata } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Longrun", template: "%s · Longrun" },
  description: "Run long computations from your browser and watch them finish.",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page is rendered per request, so Next can put this response's CSP nonce
  // on its scripts (a page prerendered at build time would have none and not run).
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
