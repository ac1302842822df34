import { ConfigurationForm } from "@/components/configurations/configuration-form";
import { requireUser } from "@/server/auth/guards";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";

export const metadata = { title: "New configuration" };

export default async function NewConfigurationPage() {
  await requireUser();
  return (
    <div className="max-w-md space-y-4">
      <h1 className="text-2xl font-semibold">New configuration</h1>
      <ConfigurationForm configurationId={null} initialValues={DEFAULT_CONFIGURATION} />
    </div>
  );
}
