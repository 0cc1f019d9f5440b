// The Kubernetes manifests and compose services, checked as far as this
// machine allows without a cluster: well-formed objects of known kinds,
// selectors that select, probes on declared ports, and — what drifts first —
// every command line parsed by the real CLI (no unknown command or flag) and
// every PRESENCE_* variable a setting `presence config show` knows.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../cli/main.ts';
import { explainSettings, projectRoot } from '../../config/settings.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = path.join(projectRoot, 'infra/kubernetes');
const objects: Array<Obj & { file: string }> = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((d) => {
      expect(d.errors, `${file}: ${d.errors.join('; ')}`).toEqual([]);
      return { ...(d.toJS() as Obj), file };
    }),
  );

const API: Record<string, string> = {
  ConfigMap: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  Job: 'batch/v1',
  PodDisruptionBudget: 'policy/v1',
};
const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const settingNames = new Set(explainSettings({}).sources.map((s) => s.env));

/** Every role `presence run` starts (the commands of the run group). */
const runRoles = (): string[] =>
  buildProgram()
    .commands.find((c) => c.name() === 'run')!
    .commands.map((c) => c.name())
    .filter((n) => n !== 'help');
/** The `run` role a command line starts, or undefined. */
const roleOf = (args: unknown): string | undefined => (Array.isArray(args) && args[0] === 'run' ? String(args[1]) : undefined);

/** The CLI command a container's args name, and the args after it. */
function commandFor(args: string[]): { cmd: Command; rest: string[] } {
  let cmd = buildProgram();
  let i = 0;
  for (; i < args.length && !args[i]!.startsWith('-'); i++) {
    const sub = cmd.commands.find((c) => c.name() === args[i]);
    if (!sub) break;
    cmd = sub;
  }
  expect(cmd.commands.length, `"${args.slice(0, i).join(' ')}" is a command group, not a command`).toBe(0);
  return { cmd, rest: args.slice(i) };
}

/** Every --flag in `rest` is an option of `cmd`, and takes a value when it needs one. */
function expectKnownFlags(cmd: Command, rest: string[], where: string): void {
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) continue;
    const opt = cmd.options.find((o) => o.long === a.split('=')[0]);
    expect(opt, `${where}: ${cmd.name()} has no option ${a}`).toBeDefined();
    if (opt!.required && !a.includes('=')) expect(rest[++i], `${where}: ${a} needs a value`).toBeDefined();
  }
}

describe('Kubernetes manifests (infra/kubernetes)', () => {
  it('are objects of known kinds, with names, listed in the kustomization', () => {
    const listed = (parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Obj).resources as string[];
    expect(new Set(objects.map((o) => o.file))).toEqual(new Set(listed));
    for (const o of objects) {
      expect(API[o.kind], `${o.file}: kind ${o.kind}`).toBe(o.apiVersion);
      expect(o.metadata?.name, `${o.file}: ${o.kind} without a name`).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
    }
  });

  it('select their own pods: workloads, Services, PodDisruptionBudgets, StatefulSets’ headless Services', () => {
    const podLabels = workloads.map((w) => w.spec.template.metadata.labels as Record<string, string>);
    const selects = (sel: Record<string, string>) => podLabels.some((l) => Object.entries(sel).every(([k, v]) => l[k] === v));
    for (const w of workloads.filter((x) => x.kind !== 'Job'))
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels as Record<string, string>))
        expect(w.spec.template.metadata.labels[k], `${w.metadata.name} selector ${k}`).toBe(v);
    for (const svc of objects.filter((o) => o.kind === 'Service')) expect(selects(svc.spec.selector), `Service ${svc.metadata.name} selects no pod`).toBe(true);
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget'))
      expect(selects(pdb.spec.selector.matchLabels), `PDB ${pdb.metadata.name}`).toBe(true);
    for (const ss of workloads.filter((x) => x.kind === 'StatefulSet')) {
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === ss.spec.serviceName);
      expect(svc?.spec.clusterIP, `StatefulSet ${ss.metadata.name} needs its headless Service`).toBe('None');
    }
  });

  it('run real commands with real flags, probe declared ports, request resources and read known settings', () => {
    const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((c) => [c.metadata.name as string, c]));
    for (const w of workloads) {
      for (const c of w.spec.template.spec.containers as Obj[]) {
        const where = `${w.metadata.name}/${c.name}`;
        const { cmd, rest } = commandFor(c.args as string[]);
        expectKnownFlags(cmd, rest, where);
        const ports = new Set((c.ports ?? []).map((p: Obj) => p.name));
        for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean))
          expect(ports.has(probe.httpGet.port), `${where}: probe port ${probe.httpGet.port}`).toBe(true);
        expect(c.resources?.requests?.memory && c.resources?.requests?.cpu, `${where}: resource requests`).toBeTruthy();
        // $(VAR) in args must be defined in the container's env.
        const env = new Set((c.env ?? []).map((e: Obj) => e.name));
        for (const m of (c.args as string[]).join(' ').matchAll(/\$\(([A-Z_]+)\)/g)) expect(env.has(m[1]), `${where}: $(${m[1]}) undefined`).toBe(true);
        for (const e of c.env ?? [])
          if (String(e.name).startsWith('PRESENCE_')) expect(settingNames.has(e.name), `${where}: ${e.name} is no setting`).toBe(true);
        for (const from of c.envFrom ?? [])
          if (from.configMapRef) expect(configMaps.has(from.configMapRef.name), `${where}: ConfigMap ${from.configMapRef.name}`).toBe(true);
      }
    }
    for (const cm of configMaps.values()) for (const k of Object.keys(cm.data)) expect(settingNames.has(k), `ConfigMap key ${k} is no setting`).toBe(true);
  });

  it('deploy every role `presence run` has (a new role without a manifest fails here)', () => {
    const deployed = new Set(workloads.flatMap((w) => (w.spec.template.spec.containers as Obj[]).map((c) => roleOf(c.args))));
    expect(runRoles().filter((r) => !deployed.has(r))).toEqual([]);
  });
});

describe('compose services (infra/compose/docker-compose.yml)', () => {
  it('run real commands with real flags and known settings', () => {
    const compose = parseAllDocuments(readFileSync(path.join(projectRoot, 'infra/compose/docker-compose.yml'), 'utf8'))[0]!.toJS() as Obj;
    const ours = Object.entries(compose.services as Record<string, Obj>).filter(([, svc]) => svc.image === 'presence-gateway:0.1.0');
    expect(ours.map(([name]) => name)).toEqual(expect.arrayContaining(['topics-apply', 'event-manager', 'sip-front', 'notify-sink']));
    const composed = new Set(ours.map(([, svc]) => roleOf(svc.command)));
    expect(
      runRoles().filter((r) => !composed.has(r)),
      'roles with no compose service',
    ).toEqual([]);
    for (const [name, svc] of ours) {
      const { cmd, rest } = commandFor(svc.command as string[]);
      expectKnownFlags(cmd, rest, name);
      for (const k of Object.keys(svc.environment ?? {})) if (k.startsWith('PRESENCE_')) expect(settingNames.has(k), `${name}: ${k}`).toBe(true);
    }
  });
});
