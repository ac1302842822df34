import type { RenderParams } from "@/lib/validation/configuration";

/** e.g. "my-julia_c-0.8+0.156i_d256_512x512_z1.png": the name and what makes the picture. */
export function renderFileName(configurationName: string, params: RenderParams) {
  const slug =
    configurationName
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 60) || "julia";
  const imaginary = `${params.im >= 0 ? "+" : ""}${params.im}`;
  const centre = params.cx !== 0 || params.cy !== 0 ? `_at${params.cx},${params.cy}` : "";
  return `${slug}_c${params.re}${imaginary}i_d${params.depth}_${params.width}x${params.height}_z${params.zoom}${centre}_${params.colormap}.png`;
}
