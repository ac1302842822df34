import { notFound } from "next/navigation";
import { db } from "@/db";
import { getConfiguration, getConfigurationStatus } from "@/db/queries/configurations";
import { ConfigurationForm } from "@/components/configurations/configuration-form";
import { RenderView } from "@/components/configurations/render-view";
import { ScheduleForm } from "@/components/configurations/schedule-form";
import { getSchedule } from "@/db/queries/schedules";
import { requireParams, requireUser } from "@/server/auth/guards";
import { idParamsSchema, type ConfigurationInput } from "@/lib/validation/configuration";

export const metadata = { title: "Configuration" };

export default async function ConfigurationPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await requireParams(params, idParamsSchema);
  const [configuration, status, schedule] = await Promise.all([
    getConfiguration(db, { id, ownerId: user.id }),
    getConfigurationStatus(db, { id, ownerId: user.id }),
    getSchedule(db, { configurationId: id, ownerId: user.id }),
  ]);
  // Someone else's configuration is exactly as missing as one that never existed.
  if (!configuration || !status) notFound();

  const values: ConfigurationInput = {
    name: configuration.name,
    re: configuration.re,
    im: configuration.im,
    depth: configuration.depth,
    width: configuration.width,
    height: configuration.height,
    zoom: configuration.zoom,
    cx: configuration.cx,
    cy: configuration.cy,
    colormap: configuration.colormap as ConfigurationInput["colormap"],
  };
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">{configuration.name}</h1>
      <div className="grid gap-8 lg:grid-cols-[minmax(0,640px)_minmax(0,1fr)]">
        <RenderView configurationId={id} initial={status} />
        <div className="space-y-6">
          <ConfigurationForm configurationId={id} initialValues={values} />
          <ScheduleForm configurationId={id} schedule={schedule} />
        </div>
      </div>
    </div>
  );
}
