import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import ts from "typescript";

/**
 * Validates Kubernetes and KEDA manifests offline, as `kubeconform -strict`
 * would (no Kubernetes and no schema download here). Two checks, both from
 * kubernetes-models (Kubernetes 1.27's OpenAPI schemas) and
 * @kubernetes-models/keda (KEDA's CRD schemas):
 * - their validators, compiled from those JSON schemas: required fields,
 *   types, formats, enums;
 * - their TypeScript types, generated from the same schemas, which the
 *   compiler checks each document against: it rejects any field the schema
 *   does not name, which the validators let through.
 */
const KINDS = {
  "v1/ConfigMap": { model: ConfigMap, type: ["kubernetes-models/v1/ConfigMap", "IConfigMap"] },
  "v1/Secret": { model: Secret, type: ["kubernetes-models/v1/Secret", "ISecret"] },
  "v1/Service": { model: Service, type: ["kubernetes-models/v1/Service", "IService"] },
  "apps/v1/Deployment": { model: Deployment, type: ["kubernetes-models/apps/v1/Deployment", "IDeployment"] },
  "batch/v1/Job": { model: Job, type: ["kubernetes-models/batch/v1/Job", "IJob"] },
  "keda.sh/v1alpha1/ScaledObject": {
    model: ScaledObject,
    type: ["@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject", "IScaledObject"],
  },
  "keda.sh/v1alpha1/TriggerAuthentication": {
    model: TriggerAuthentication,
    type: ["@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication", "ITriggerAuthentication"],
  },
} as const;

export type Manifest = { source: string; document: unknown };

const kindOf = (document: unknown) => {
  const { apiVersion, kind } = (document ?? {}) as { apiVersion?: unknown; kind?: unknown };
  return `${String(apiVersion)}/${String(kind)}`;
};
const isKnownKind = (key: string): key is keyof typeof KINDS => Object.hasOwn(KINDS, key);

/** Every problem found, each as "source: message"; none when all are valid. */
export function validateManifests(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const typed: { source: string; text: string }[] = [];
  for (const { source, document } of manifests) {
    const key = kindOf(document);
    if (!isKnownKind(key)) {
      problems.push(`${source}: no schema for ${key} (known: ${Object.keys(KINDS).join(", ")})`);
      continue;
    }
    const { model: Model, type } = KINDS[key];
    try {
      new Model(document as never).validate();
    } catch (error) {
      problems.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const [module, name] = type;
    typed.push({
      source,
      text: `import type { ${name} } from "${module}";\nexport const manifest: ${name} = ${toLiteral(document, "")};\n`,
    });
  }
  return [...problems, ...typeCheck(typed)];
}

/** A TypeScript object literal, with plain keys unquoted so that the compiler's messages name them plainly. */
function toLiteral(value: unknown, indent: string): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((item) => inner + toLiteral(item, inner)).join(",\n")}\n${indent}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(
      ([key, item]) => `${inner}${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${toLiteral(item, inner)}`,
    );
    return `{\n${entries.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

// The previous program: its library and kubernetes-models declaration files are reused, not parsed again.
let previousProgram: ts.Program | undefined;
let fileCount = 0;

/** Type-checks each document against its generated type, in one in-memory program. */
function typeCheck(files: { source: string; text: string }[]): string[] {
  if (files.length === 0) return [];
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ["lib.es2022.d.ts"],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  // Unique names: a reused program must not take a new document for the previous one.
  const fileName = (index: number) => `${process.cwd()}/__manifest_${++fileCount}_${index}.ts`;
  const virtual = new Map(files.map((file, index) => [fileName(index), file]));
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => virtual.has(name) || ts.sys.fileExists(name);
  host.readFile = (name) => virtual.get(name)?.text ?? readFile(name);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const file = virtual.get(name);
    return file ? ts.createSourceFile(name, file.text, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], options, host, previousProgram);
  previousProgram = program;
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const file = diagnostic.file && virtual.get(diagnostic.file.fileName);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    if (!file || diagnostic.start === undefined) return `${diagnostic.file?.fileName ?? "TypeScript"}: ${message}`;
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
    return `${file.source}: ${message} (at: ${file.text.split("\n")[line].trim()})`;
  });
}
