import Link from "next/link";
import { db } from "@/db";
import { listConfigurationStatuses } from "@/db/queries/configurations";
import { ConfigurationList } from "@/components/configurations/configuration-list";
import { requireUser } from "@/server/auth/guards";

export const metadata = { title: "Configurations" };

export default async function ConfigurationsPage() {
  const user = await requireUser();
  const configurations = await listConfigurationStatuses(db, { ownerId: user.id });
  return (
    <div className="space-y-6">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Configurations</h1>
        <Link className="button button-primary" href="/configurations/new">
          New configuration
        </Link>
      </div>
      <ConfigurationList initial={configurations} />
    </div>
  );
}
