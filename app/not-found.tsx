import Link from "next/link";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-md p-10 text-center">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-slate-600">This page does not exist, or it is not yours.</p>
      <Link className="button mt-6" href="/configurations">
        Back to your configurations
      </Link>
    </main>
  );
}
