// Reading a process's admin port in tests: its /metrics exposition and the
// value of one series, and where the process said it listens.

/** The value of one series (name with its labels, as printed) in a text exposition, or undefined. */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** GET /metrics as text; throws on a non-200. */
export async function scrape(adminUrl: string): Promise<string> {
  const r = await fetch(`${adminUrl}/metrics`);
  if (r.status !== 200) throw new Error(`GET ${adminUrl}/metrics answered ${r.status}`);
  return r.text();
}

/** The admin URL a `presence run …` process logs on stderr ("admin on http://…"). */
export function adminUrlIn(stderr: string): string | undefined {
  return /admin on (http:\/\/\S+?)(?:\s|$)/.exec(stderr)?.[1];
}
