// Progress for long operations: a redrawn bar on a terminal, a line every few
// seconds otherwise (CI logs), always on stderr so stdout stays data. With a
// total (or a fraction of the work done, when the count's total is not known
// ahead, e.g. bytes of a capture read vs frames decoded) it shows the share
// done and an ETA from the mean rate so far.
interface Progress {
  /** `fraction`: share of the work done (0..1) when it is not done/total. */
  update(done: number, detail?: string, fraction?: number): void;
  finish(done: number, detail?: string): void;
}

/** "42s", "3m05s", "1h02m": an ETA short enough for a status line. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The status line itself (pure: the clock is passed in). */
export function progressLine(
  o: { label: string; total: number | undefined; tty: boolean; elapsedMs: number },
  done: number,
  detail?: string,
  fraction?: number,
): string {
  const secs = o.elapsedMs / 1000;
  const rate = secs > 0 ? Math.round(done / secs) : 0;
  const f = o.total ? done / o.total : fraction;
  const known = f !== undefined && Number.isFinite(f) && f >= 0;
  const share = known ? Math.min(1, f) : undefined;
  const pct = share !== undefined ? ` ${(100 * share).toFixed(1).padStart(5)}%` : '';
  const bar = share !== undefined && o.tty ? ` [${'#'.repeat(Math.round(30 * share)).padEnd(30, '.')}]` : '';
  // The mean rate so far predicts the rest; nothing to say before any progress.
  const eta = share !== undefined && share > 0 && share < 1 ? `, eta ${formatDuration((secs * (1 - share)) / share)}` : '';
  return `${o.label}${bar}${pct} ${done.toLocaleString('en')}${o.total ? `/${o.total.toLocaleString('en')}` : ''} (${rate.toLocaleString('en')}/s, ${secs.toFixed(1)}s${eta})${detail ? ` ${detail}` : ''}`;
}

export function progress(label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let last = tty ? 0 : started;
  const line = (done: number, detail?: string, fraction?: number) =>
    progressLine({ label, total, tty, elapsedMs: Date.now() - started }, done, detail, fraction);
  return {
    update(done, detail, fraction) {
      const now = Date.now();
      if (now - last < (tty ? 100 : 5000)) return;
      last = now;
      stream.write(tty ? `\r${line(done, detail, fraction)}\u001b[K` : `${line(done, detail, fraction)}\n`);
    },
    finish(done, detail) {
      stream.write(`${tty ? '\r' : ''}${line(done, detail)}${tty ? '\u001b[K' : ''}\n`);
    },
  };
}
