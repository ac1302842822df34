import Link from "next/link";
import { notFound } from "next/navigation";
import { db } from "@/db";
import { getUpload } from "@/db/queries/uploads";
import { UploadDetail } from "@/components/uploads/upload-detail";
import { requireParams, requireUser } from "@/server/auth/guards";
import { idParamsSchema } from "@/lib/validation/configuration";

export const metadata = { title: "File" };

export default async function UploadPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await requireParams(params, idParamsSchema);
  const upload = await getUpload(db, { id, ownerId: user.id });
  if (!upload) notFound();
  return (
    <div className="space-y-6">
      <div>
        <Link href="/uploads" className="text-sm text-indigo-700 hover:underline">
          ← Uploads
        </Link>
        <h1 className="mt-1 break-all text-2xl font-semibold">{upload.name}</h1>
      </div>
      <UploadDetail initial={upload} />
    </div>
  );
}
