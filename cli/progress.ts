// Progress for long operations: a redrawn bar on a terminal, a line every few
// seconds otherwise (CI logs), always on stderr so stdout stays data.
interface Progress {
  update(done: number, detail?: string): void;
  finish(done: number, detail?: string): void;
}

export function progress(label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let last = tty ? 0 : started;
  const line = (done: number, detail?: string) => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const pct = total ? ` ${((100 * done) / total).toFixed(1).padStart(5)}%` : '';
    const bar = total && tty ? ` [${'#'.repeat(Math.round((30 * done) / total)).padEnd(30, '.')}]` : '';
    return `${label}${bar}${pct} ${done.toLocaleString('en')}${total ? `/${total.toLocaleString('en')}` : ''} (${rate.toLocaleString('en')}/s, ${secs.toFixed(1)}s)${detail ? ` ${detail}` : ''}`;
  };
  return {
    update(done, detail) {
      const now = Date.now();
      if (now - last < (tty ? 100 : 5000)) return;
      last = now;
      stream.write(tty ? `\r${line(done, detail)}\u001b[K` : `${line(done, detail)}\n`);
    },
    finish(done, detail) {
      stream.write(`${tty ? '\r' : ''}${line(done, detail)}${tty ? '\u001b[K' : ''}\n`);
    },
  };
}
