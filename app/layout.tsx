import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Longrun", template: "%s · Longrun" },
  description: "Run long computations from your browser and watch them finish.",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
