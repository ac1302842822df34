import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { ITriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { CONNECT_TIMEOUT_S } from "@/db/client";
import { kedaScalerQuery } from "@/db/queries/queue";
import { TASK_GROUPS, type TaskGroup } from "@/jobs/payloads";
import { ENV_VARIABLES } from "@/lib/env";
import { WORKER_DEFAULTS } from "@/worker/start-worker";
import { validateManifests, type Manifest } from "./schema";

// No Kubernetes runs here: the manifests are checked against the published schemas (./schema.ts)
// and against what the code says (queries, ports, grace periods, variable names).

const DIRECTORY = path.dirname(new URL(import.meta.url).pathname);
const kustomization = parse(readFileSync(path.join(DIRECTORY, "kustomization.yaml"), "utf8")) as { resources: string[] };

const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(DIRECTORY, file), "utf8")).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join("; ")}`);
    return { source: `${file}#${index + 1}`, document: document.toJS() as unknown };
  }),
);
const ofKind = <T>(kind: string) =>
  manifests.map((manifest) => manifest.document as T & { kind: string }).filter((document) => document.kind === kind);
const deployments = ofKind<IDeployment>("Deployment");
const scaledObjects = ofKind<IScaledObject>("ScaledObject");
const [config] = ofKind<IConfigMap>("ConfigMap");
const [secret] = ofKind<ISecret>("Secret");
const deployment = (name: string) => deployments.find((item) => item.metadata?.name === name);
const copy = <T>(value: T): T => structuredClone(value);

describe("deploy/kubernetes", () => {
  it("lists every manifest in kustomization.yaml", () => {
    const files = readdirSync(DIRECTORY).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it("every manifest is valid against the Kubernetes and KEDA schemas", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(11);
    expect(validateManifests(manifests)).toEqual([]);
  });

  describe("the validation rejects real mistakes", () => {
    const web = manifests.find((manifest) => (manifest.document as IDeployment).metadata?.name === "longrun-web")!;
    const scaler = manifests.find((manifest) => (manifest.document as IScaledObject).kind === "ScaledObject")!;

    it("a misspelt field", () => {
      const document = copy(web.document) as IDeployment;
      const container = document.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>;
      container.readinesProbe = container.readinessProbe;
      delete container.readinessProbe;
      expect(validateManifests([{ source: "copy", document }])).toEqual([
        expect.stringMatching(/'readinesProbe' does not exist in type 'IContainer'/),
      ]);
    });

    it("a value of the wrong type, and a missing required field", () => {
      const document = copy(web.document) as { spec: Record<string, unknown> };
      document.spec.replicas = "two";
      delete document.spec.selector;
      const problems = validateManifests([{ source: "copy", document }]);
      expect(problems.join("\n")).toMatch(/replicas.*must be integer/);
      expect(problems.join("\n")).toMatch(/spec must have required property selector/);
    });

    it("a misspelt field of KEDA's ScaledObject", () => {
      const document = copy(scaler.document) as { spec: Record<string, unknown> };
      document.spec.minReplicas = document.spec.minReplicaCount;
      delete document.spec.minReplicaCount;
      expect(validateManifests([{ source: "copy", document }])).toEqual([expect.stringMatching(/'minReplicas' does not exist/)]);
    });

    it("a kind it has no schema for", () => {
      expect(validateManifests([{ source: "copy", document: { apiVersion: "v1", kind: "Pood", metadata: { name: "x" } } }])).toEqual([
        expect.stringContaining("no schema for v1/Pood"),
      ]);
    });
  });

  it("names only variables that lib/env.ts reads, from the ConfigMap and Secret it defines", () => {
    const known = new Set<string>(ENV_VARIABLES);
    expect(Object.keys(config.data ?? {}).filter((name) => !known.has(name))).toEqual([]);
    expect(Object.keys(secret.stringData ?? {}).filter((name) => !known.has(name))).toEqual([]);
    for (const { spec } of [...deployments, ...ofKind<IDeployment>("Job")]) {
      for (const container of spec!.template.spec!.containers) {
        for (const variable of container.env ?? []) {
          expect(known, `${container.name}: ${variable.name}`).toContain(variable.name);
          const reference = variable.valueFrom?.secretKeyRef;
          if (reference) expect(Object.keys(secret.stringData ?? {}), variable.name).toContain(reference.key);
        }
        for (const source of container.envFrom ?? []) expect(source.configMapRef?.name).toBe(config.metadata?.name);
      }
    }
  });

  describe("workers", () => {
    const workerDeployments = scaledObjects.map((scaledObject) => deployment(scaledObject.spec.scaleTargetRef.name)!);
    const groupOf = (worker: IDeployment): TaskGroup => {
      const args = worker.spec!.template.spec!.containers[0].args ?? [];
      const only = args.indexOf("--only");
      return only === -1 ? "standard" : (args[only + 1] as TaskGroup);
    };
    const concurrencyOf = (worker: IDeployment) => {
      const args = worker.spec!.template.spec!.containers[0].args ?? [];
      const flag = args.indexOf("--concurrency");
      return Number(flag === -1 ? config.data?.WORKER_CONCURRENCY : args[flag + 1]);
    };

    it("each worker Deployment, standard and large, has a ScaledObject", () => {
      expect(workerDeployments.map(groupOf).sort()).toEqual(Object.keys(TASK_GROUPS).sort());
      expect(
        deployments.filter(
          (item) =>
            item.spec!.template.spec!.containers[0].image?.startsWith("longrun-worker") && !item.spec!.template.spec!.containers[0].command,
        ),
      ).toEqual(workerDeployments);
    });

    it("KEDA runs the query the code builds for the worker's tasks, against its concurrency", () => {
      for (const [index, scaledObject] of scaledObjects.entries()) {
        const worker = workerDeployments[index];
        const [trigger] = scaledObject.spec.triggers;
        expect(trigger.type).toBe("postgresql");
        expect(trigger.metadata.query, scaledObject.metadata?.name).toBe(kedaScalerQuery(TASK_GROUPS[groupOf(worker)]));
        expect(Number(trigger.metadata.targetQueryValue)).toBe(concurrencyOf(worker));
      }
    });

    it("the standard workers never scale to zero (the crontab); the large ones may", () => {
      const minimum = Object.fromEntries(
        scaledObjects.map((scaledObject, index) => [groupOf(workerDeployments[index]), scaledObject.spec.minReplicaCount]),
      );
      expect(minimum).toEqual({ standard: 1, large: 0 });
    });

    it("KEDA reads the connection URL from the workers' Secret", () => {
      const authentications = ofKind<ITriggerAuthentication>("TriggerAuthentication");
      for (const scaledObject of scaledObjects) {
        const authentication = authentications.find(
          (item) => item.metadata?.name === scaledObject.spec.triggers[0].authenticationRef?.name,
        );
        expect(authentication?.spec.secretTargetRef).toEqual([
          { parameter: "connection", name: secret.metadata?.name, key: "DATABASE_URL" },
        ]);
      }
    });

    it("probes /health on the metrics port, and give shutdown more time than the worker takes", () => {
      const graceSeconds = Number(config.data?.WORKER_SHUTDOWN_GRACE_MS ?? WORKER_DEFAULTS.shutdownGraceMs) / 1000;
      // After the grace: the heartbeat's removal, the two pools' ends, each bounded by the connect timeout.
      const closingSeconds = 3 * CONNECT_TIMEOUT_S;
      for (const worker of workerDeployments) {
        const pod = worker.spec!.template.spec!;
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(graceSeconds + closingSeconds);
        const [container] = pod.containers;
        const metricsPort = container.ports?.find((port) => port.name === "metrics")?.containerPort;
        expect(metricsPort).toBe(Number(config.data?.WORKER_METRICS_PORT));
        for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
          expect(probe?.httpGet).toEqual({ path: "/health", port: "metrics" });
        }
      }
    });
  });

  it("probes the web on /api/health", () => {
    const [container] = deployment("longrun-web")!.spec!.template.spec!.containers;
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet).toEqual({ path: "/api/health", port: "http" });
    }
  });
});
