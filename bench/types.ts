import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { detectType, DETECTION_BYTES } from "@/lib/uploads/detect-type";
import { isSmoke } from "@/scripts/lib/smoke";

/**
 * Type agreement with libmagic: builds a corpus of real files from the machine's
 * own packages (/usr/share, /usr/lib), chosen by what `file --mime-type` says
 * they are so that every kind below is present, and compares our detector
 * (which reads only the first DETECTION_BYTES, as the upload step does) with
 * `file --mime-type` on the whole file. Kinds the machine has no file of are
 * made from its PNGs with sharp (TIFF, WebP), by hand from sharp's pixels
 * (PBM, PGM, PPM, BMP) or with bzip2 (BZIP2), and reported as generated.
 */

type Kind = { name: string; types: string[]; extensions: string[]; generate?: Generator };
type Generator = (png: Buffer, source: string) => Promise<Buffer>;

const ROOTS = ["/usr/share", "/usr/lib"];
const PER_KIND = isSmoke ? 1 : 12;
const CANDIDATES_PER_EXTENSION = isSmoke ? 10 : 80;
const AIM = 0.95;

const KINDS: Kind[] = [
  { name: "HTML", types: ["text/html"], extensions: [".html", ".htm"] },
  { name: "XML", types: ["text/xml", "application/xml"], extensions: [".xml"] },
  { name: "SVG", types: ["image/svg+xml"], extensions: [".svg"] },
  { name: "JSON", types: ["application/json"], extensions: [".json"] },
  { name: "TrueType", types: ["font/sfnt"], extensions: [".ttf"] },
  { name: "ELF", types: ["application/x-sharedlib", "application/x-pie-executable", "application/x-executable"], extensions: [".so"] },
  { name: "shell script", types: ["text/x-shellscript"], extensions: [".sh"] },
  { name: "PNG", types: ["image/png"], extensions: [".png"] },
  { name: "JPEG", types: ["image/jpeg"], extensions: [".jpg", ".jpeg"] },
  { name: "GIF", types: ["image/gif"], extensions: [".gif"] },
  { name: "PDF", types: ["application/pdf"], extensions: [".pdf"] },
  { name: "ZIP", types: ["application/zip"], extensions: [".zip"] },
  { name: "GZIP", types: ["application/gzip"], extensions: [".gz"] },
  { name: "BZIP2", types: ["application/x-bzip2"], extensions: [".bz2"], generate: (_png, source) => bzip2(source) },
  { name: "MP3", types: ["audio/mpeg"], extensions: [".mp3"] },
  { name: "PBM", types: ["image/x-portable-bitmap"], extensions: [".pbm"], generate: (png) => netpbm(png, "P4") },
  { name: "PGM", types: ["image/x-portable-greymap"], extensions: [".pgm"], generate: (png) => netpbm(png, "P5") },
  { name: "PPM", types: ["image/x-portable-pixmap"], extensions: [".ppm"], generate: (png) => netpbm(png, "P6") },
  { name: "ICO", types: ["image/vnd.microsoft.icon"], extensions: [".ico"] },
  { name: "BMP", types: ["image/bmp", "image/x-ms-bmp"], extensions: [".bmp"], generate: (png) => bmp(png) },
  { name: "TIFF", types: ["image/tiff"], extensions: [".tif", ".tiff"], generate: (png) => sharp(png).tiff().toBuffer() },
  { name: "WebP", types: ["image/webp"], extensions: [".webp"], generate: (png) => sharp(png).webp().toBuffer() },
];

/** Up to `limit` regular files per extension under the roots, spread over the tree (every n-th in path order). */
async function findCandidates(extensions: Set<string>, limit: number) {
  const found = new Map<string, string[]>();
  async function walk(directory: string): Promise<void> {
    const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && !full.includes("\n")) {
        // No extension: programs and scripts (ELF executables, shell scripts) are among them.
        const extension = path.extname(entry.name).toLowerCase();
        if (extensions.has(extension) || extension === "") found.set(extension, [...(found.get(extension) ?? []), full]);
      }
    }
  }
  for (const root of ROOTS) await walk(root);
  return [...found.values()].flatMap((paths) => {
    paths.sort();
    const step = Math.max(1, Math.floor(paths.length / limit));
    return paths.filter((_, index) => index % step === 0).slice(0, limit);
  });
}

/** `file --mime-type` of each path, in one run of `file`. */
function libmagicTypes(paths: string[]) {
  if (paths.length === 0) return [];
  const list = path.join(workDirectory, "list");
  writeFileSync(list, paths.join("\n") + "\n");
  const output = execFileSync("file", ["--brief", "--mime-type", "--files-from", list], { encoding: "utf8", maxBuffer: 64 << 20 });
  return output.trimEnd().split("\n");
}

async function ourType(file: string) {
  const handle = await open(file);
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, DETECTION_BYTES));
    await handle.read(head, 0, head.length, 0);
    return await detectType(head, size);
  } finally {
    await handle.close();
  }
}

async function netpbm(png: Buffer, magic: "P4" | "P5" | "P6") {
  const channels = magic === "P6" ? 3 : 1;
  const image = sharp(png).flatten({ background: "#ffffff" });
  const { data, info } = await (channels === 3 ? image.removeAlpha() : image.greyscale())
    .toColourspace(channels === 3 ? "srgb" : "b-w")
    .raw()
    .toBuffer({ resolveWithObject: true });
  const header = Buffer.from(`${magic}\n${info.width} ${info.height}\n${magic === "P4" ? "" : "255\n"}`);
  if (magic !== "P4") return Buffer.concat([header, data]);
  const rowBytes = Math.ceil(info.width / 8);
  const bits = Buffer.alloc(rowBytes * info.height);
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++) if (data[y * info.width + x] < 128) bits[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
  return Buffer.concat([header, bits]);
}

/** A 24-bit bottom-up BMP with a BITMAPINFOHEADER. */
async function bmp(png: Buffer) {
  const { data, info } = await sharp(png).flatten({ background: "#ffffff" }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rowBytes = Math.ceil((info.width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + rowBytes * info.height);
  file.write("BM", 0, "latin1");
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(info.width, 18);
  file.writeInt32LE(info.height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(rowBytes * info.height, 34);
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++) {
      const from = (y * info.width + x) * 3;
      const to = 54 + (info.height - 1 - y) * rowBytes + x * 3;
      file[to] = data[from + 2];
      file[to + 1] = data[from + 1];
      file[to + 2] = data[from];
    }
  return file;
}

function bzip2(source: string) {
  return Promise.resolve(execFileSync("bzip2", ["--stdout", source], { maxBuffer: 64 << 20 }));
}

const workDirectory = mkdtempSync(path.join(tmpdir(), "type-corpus-"));
try {
  const extensions = new Set(KINDS.flatMap((kind) => kind.extensions));
  const candidates = await findCandidates(extensions, CANDIDATES_PER_EXTENSION);
  const candidateTypes = libmagicTypes(candidates);

  const corpus: { file: string; kind: string; isGenerated: boolean }[] = [];
  const generatedKinds: string[] = [];
  // Up to PER_KIND files of a kind, taking its libmagic types in turn (ELF: shared libraries and executables).
  const picked = (kind: Kind) => {
    const byType = kind.types.map((type) => candidates.filter((_, index) => candidateTypes[index] === type));
    const files: string[] = [];
    for (let index = 0; files.length < PER_KIND && byType.some((paths) => index < paths.length); index++)
      for (const paths of byType) if (index < paths.length && files.length < PER_KIND) files.push(paths[index]);
    return files;
  };
  const pngs = picked(KINDS.find((kind) => kind.name === "PNG")!);
  const texts = [...picked(KINDS.find((kind) => kind.name === "JSON")!), ...picked(KINDS.find((kind) => kind.name === "XML")!)];
  for (const kind of KINDS) {
    const files = picked(kind);
    corpus.push(...files.map((file) => ({ file, kind: kind.name, isGenerated: false })));
    if (files.length > 0 || !kind.generate) continue;
    generatedKinds.push(kind.name);
    const sources = kind.name === "BZIP2" ? texts : pngs;
    for (const [index, source] of sources.slice(0, PER_KIND).entries()) {
      const file = path.join(workDirectory, `${kind.name}-${index}${kind.extensions[0]}`);
      writeFileSync(file, await kind.generate(await readFile(source), source));
      corpus.push({ file, kind: kind.name, isGenerated: true });
    }
  }

  const references = libmagicTypes(corpus.map((entry) => entry.file));
  const rows = new Map<string, { files: number; agreed: number; ours: Map<string, number> }>();
  let agreed = 0;
  for (const [index, entry] of corpus.entries()) {
    const reference = references[index];
    const ours = await ourType(entry.file);
    const row = rows.get(reference) ?? { files: 0, agreed: 0, ours: new Map<string, number>() };
    row.files++;
    if (ours === reference) {
      row.agreed++;
      agreed++;
    } else {
      row.ours.set(ours, (row.ours.get(ours) ?? 0) + 1);
    }
    rows.set(reference, row);
  }

  const fileVersion = execFileSync("file", ["--version"], { encoding: "utf8" }).split("\n")[0];
  console.log(`Type agreement with ${fileVersion} (--mime-type), ${new Date().toISOString().slice(0, 10)}${isSmoke ? " (smoke)" : ""}`);
  const missing = KINDS.filter((kind) => !corpus.some((entry) => entry.kind === kind.name)).map((kind) => kind.name);
  console.log(
    `corpus: ${corpus.length} files from ${ROOTS.join(", ")}; generated: ${generatedKinds.join(", ") || "none"}; missing: ${missing.join(", ") || "none"}`,
  );
  console.log("");
  console.log(`| ${"file --mime-type".padEnd(34)} | files | agreed | ours when different`);
  console.log(`| ${"-".repeat(34)} | ----: | -----: | -------------------`);
  for (const [type, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    const different = [...row.ours].map(([ours, count]) => `${ours} (${count})`).join(", ");
    console.log(`| ${type.padEnd(34)} | ${String(row.files).padStart(5)} | ${String(row.agreed).padStart(6)} | ${different}`);
  }
  const share = agreed / corpus.length;
  console.log("");
  console.log(`overall: ${agreed}/${corpus.length} agree exactly (${(share * 100).toFixed(1)} %)`);
  if (!isSmoke)
    console.log(`Aim ${share >= AIM && corpus.length >= 200 ? "met" : "missed"}: at least ${AIM * 100} % on at least 200 files`);
} finally {
  rmSync(workDirectory, { recursive: true, force: true });
}
