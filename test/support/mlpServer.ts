// A GMLC's MLP 3.x location server for tests, on 127.0.0.1: reads each SLIR
// (client id, MSISDN, hor_acc, max_loc_age) and answers as the OMA-TS-MLP
// examples do — an SLIA with a Point or CircularArea in "DD MM SS.SSS[NSEW]",
// a poserr with a result code, a whole-request error, or the misbehaviours a
// client must survive (no answer, not XML, HTTP 500). Answers per MSISDN.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type MlpAnswer =
  | { kind: 'point' | 'circle'; latitude: number; longitude: number; radiusM?: number; time: Date; utcOff?: string; method?: string }
  | { kind: 'poserr' | 'request-error'; resid: number; text: string }
  | { kind: 'hang' }
  | { kind: 'garbage'; body: string }
  | { kind: 'http-error'; status: number };

export interface SeenSlir {
  clientId: string | null;
  password: string | null;
  msisdn: string | null;
  horizontalAccuracyM: number | null;
  maxLocationAgeS: number | null;
  body: string;
}

export interface MlpServer {
  url: string;
  answers: Map<string, MlpAnswer>;
  seen: SeenSlir[];
  close(): Promise<void>;
}

const pick = (xml: string, re: RegExp) => re.exec(xml)?.[1] ?? null;

function dms(v: number, axis: 'lat' | 'lon'): string {
  const hemi = axis === 'lat' ? (v < 0 ? 'S' : 'N') : v < 0 ? 'W' : 'E';
  const a = Math.abs(v);
  const d = Math.floor(a);
  const m = Math.floor((a - d) * 60);
  const s = (a - d - m / 60) * 3600;
  return `${String(d).padStart(2, '0')} ${String(m).padStart(2, '0')} ${s.toFixed(3).padStart(6, '0')}${hemi}`;
}

/** "YYYYMMDDhhmmss" in the zone utcOff names. */
function mlpTime(t: Date, utcOff: string): string {
  const sign = utcOff.startsWith('-') ? -1 : 1;
  const local = new Date(t.getTime() + sign * (Number(utcOff.slice(1, 3)) * 60 + Number(utcOff.slice(3, 5))) * 60_000);
  return local.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function slia(msisdn: string, a: MlpAnswer): string {
  const head = '<?xml version="1.0" ?>\n<!DOCTYPE svc_result SYSTEM "MLP_SVC_RESULT_310.DTD">\n<svc_result ver="3.1.0">\n  <slia ver="3.1.0">\n';
  const tail = '  </slia>\n</svc_result>\n';
  if (a.kind === 'request-error') return `${head}    <result resid="${a.resid}">${a.text}</result>\n${tail}`;
  if (a.kind === 'poserr')
    return `${head}    <pos>\n      <msid>${msisdn}</msid>\n      <poserr><result resid="${a.resid}">${a.text}</result><time utc_off="+0000">${mlpTime(new Date(), '+0000')}</time></poserr>\n    </pos>\n${tail}`;
  if (a.kind !== 'point' && a.kind !== 'circle') throw new Error(`no SLIA for ${a.kind}`);
  const off = a.utcOff ?? '+0000';
  const coord = `<coord><X>${dms(a.latitude, 'lat')}</X><Y>${dms(a.longitude, 'lon')}</Y></coord>`;
  const shape =
    a.kind === 'point'
      ? `<Point srsName="www.epsg.org#4326">${coord}</Point>`
      : `<CircularArea srsName="www.epsg.org#4326">${coord}<radius>${a.radiusM ?? 0}</radius></CircularArea>`;
  const method = a.method ? `\n      <pos_method>${a.method}</pos_method>` : '';
  return `${head}    <pos>\n      <msid>${msisdn}</msid>\n      <pd>\n        <time utc_off="${off}">${mlpTime(a.time, off)}</time>\n        <shape>${shape}</shape>\n      </pd>${method}\n    </pos>\n${tail}`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startMlpServer(): Promise<MlpServer> {
  const answers = new Map<string, MlpAnswer>();
  const seen: SeenSlir[] = [];
  const hanging = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const num = (re: RegExp) => (pick(body, re) === null ? null : Number(pick(body, re)));
      const msisdn = pick(body, /<msid[^>]*>([^<]*)<\/msid>/);
      seen.push({
        clientId: pick(body, /<id>([^<]*)<\/id>/),
        password: pick(body, /<pwd>([^<]*)<\/pwd>/),
        msisdn,
        horizontalAccuracyM: num(/<hor_acc>(\d+)<\/hor_acc>/),
        maxLocationAgeS: num(/<max_loc_age>(\d+)<\/max_loc_age>/),
        body,
      });
      const a: MlpAnswer = (msisdn && answers.get(msisdn)) || { kind: 'poserr', resid: 4, text: 'UNKNOWN SUBSCRIBER' };
      if (a.kind === 'hang') {
        // Held until the client gives up or the server closes.
        const end = () => res.destroy();
        hanging.add(end);
        res.on('close', () => hanging.delete(end));
        return;
      }
      if (a.kind === 'http-error') return void res.writeHead(a.status).end('failure');
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(a.kind === 'garbage' ? a.body : slia(msisdn ?? '', a));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mlp`,
    answers,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const end of hanging) end();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
