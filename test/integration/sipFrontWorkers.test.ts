// `presence run sip-front --workers 2`: two processes answer on one SIP port
// (node:cluster shares the sockets), both take requests, a killed worker is
// started again while the other keeps answering, and SIGTERM to the primary
// stops every worker; workers that cannot listen (the port taken) end the pool
// with the reason instead of leaving it up and deaf.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import { openSipBranchClient, type SipBranchClient } from '../support/sipUdpClient.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { freeSipPort } from '../support/ports.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const s = isolatedSettings('fe-workers', 4);
const run = `${Date.now().toString(36)}${process.pid}`;
let ua: SipBranchClient;
let pool: MemberProcess | undefined;
let n = 0;

function subscribe(port: number): Promise<SipMessage> {
  const branch = `z9hG4bK${run}-${++n}`;
  const uri = `sip:w${n}@workers.example.net`;
  const text =
    `SUBSCRIBE ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${ua.port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:watcher@example.com>;tag=w${n}\r\nTo: <${uri}>\r\nCall-ID: ${run}-${n}\r\nCSeq: 1 SUBSCRIBE\r\n` +
    `Event: presence\r\nExpires: 600\r\nContact: <sip:watcher@${HOST}:${ua.port}>\r\nContent-Length: 0\r\n\r\n`;
  return ua.request(text, branch, port);
}

/** SUBSCRIBEs handled so far by each worker pid, from the workers' latest stats lines. */
function handledByPid(p: MemberProcess): Map<number, number> {
  const by = new Map<number, number>();
  for (const { text } of p.lines) {
    const pid = /"pid":(\d+)/.exec(text)?.[1] ?? /\[(\d+)\]/.exec(text)?.[1];
    const count = /SUBSCRIBE (\d+)/.exec(text)?.[1];
    if (pid && count && /requests /.test(text)) by.set(Number(pid), Number(count));
  }
  return by;
}

/** Workers that said they are ready (connected to Kafka), counting restarts. */
const ready = (p: MemberProcess) => p.lines.filter((l) => /connected to Kafka at .*: ready/.test(l.text)).length;

beforeAll(async () => {
  await applyIsolated(s);
  ua = await openSipBranchClient(HOST);
}, 60_000);

afterAll(async () => {
  await pool?.stop('SIGKILL').catch(() => {});
  await ua?.close();
  await cleanupIsolated(s);
}, 60_000);

describe('sip-front --workers', () => {
  it('two workers answer on one port, a killed one comes back, SIGTERM stops them all', async () => {
    const port = await freeSipPort(HOST);
    const p = await startMemberProcess(
      s,
      'fe-pool',
      ['sip-front', '--workers', '2', '--port', String(port), '--no-directory', '--no-groups', '--stats-interval', '1'],
      /2 workers sharing the listening sockets/,
    );
    pool = p;
    await eventually('both workers ready', () => ready(p) >= 2 || undefined, { timeoutMs: 60_000, intervalMs: 100 });

    // Both take requests: sent in bursts, so each worker's wake-up finds datagrams to read.
    const answers: SipMessage[] = [];
    for (let burst = 0; burst < 10; burst++) answers.push(...(await Promise.all(Array.from({ length: 20 }, () => subscribe(port)))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const by = await eventually(
      'stats lines counting all 200 SUBSCRIBEs',
      () => {
        const m = handledByPid(p);
        return [...m.values()].reduce((a, b) => a + b, 0) >= 200 ? m : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect([...by.values()].filter((c) => c > 0)).toHaveLength(2);

    // A worker killed: the pool starts it again; the other answers meanwhile.
    const [victim] = [...by.keys()];
    process.kill(victim!, 'SIGKILL');
    await p.waitFor(/worker \d+ \(pid \d+\) exited \(SIGKILL\); starting it again/, 10_000);
    expect((await subscribe(port)).status).toBe(200);
    await eventually('the worker ready again', () => ready(p) >= 3 || undefined, { timeoutMs: 60_000, intervalMs: 100 });
    const after = await Promise.all(Array.from({ length: 20 }, () => subscribe(port)));
    expect(after.map((a) => a.status)).toEqual(after.map(() => 200));

    // SIGTERM to the primary: every worker stops, then the primary.
    const pids = [...handledByPid(p).keys()];
    await p.stop('SIGTERM', 30_000);
    expect(p.child.exitCode).toBe(0);
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  }, 150_000);

  it('stops with code 1 and the reason when its workers cannot listen (the TCP port taken), rather than staying up deaf', async () => {
    const port = await freeSipPort(HOST);
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, HOST, r));
    try {
      const p = await startMemberProcess(
        s,
        'fe-pool-taken',
        ['sip-front', '--workers', '2', '--port', String(port), '--no-directory', '--no-groups'],
        /2 workers sharing the listening sockets/,
      );
      await eventually('the pool to give up', () => p.exited || undefined, { timeoutMs: 60_000, intervalMs: 200 });
      expect(p.child.exitCode).toBe(1);
      const text = p.lines.map((l) => l.text).join('\n');
      expect(text).toMatch(/EADDRINUSE/);
      expect(text).toMatch(/exited \(1\) \d+ times in a row right after starting: stopping the pool/);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  }, 90_000);
});
