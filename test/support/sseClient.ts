// A server-sent-events client for tests: reads a text/event-stream response
// with fetch and lets a test wait for the first event of a name that passes a
// check, failing with what did arrive when it does not come in time.
export interface SseEvent {
  event: string;
  data: unknown;
  /** The `id:` field, when the server sent one (what Last-Event-ID resumes from). */
  id?: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];
  private ended: Error | undefined;
  status = 0;
  contentType = '';

  private constructor() {}

  /** `headers`: e.g. Authorization, Last-Event-ID. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    const res = await fetch(url, { signal: c.abort.signal, headers: { accept: 'text/event-stream', ...headers } });
    c.status = res.status;
    c.contentType = res.headers.get('content-type') ?? '';
    if (!res.ok || !res.body) {
      c.ended = new Error(`stream ${url} answered ${res.status}: ${await res.text()}`);
      return c;
    }
    void c.read(res.body);
    return c;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('id: ')) id = line.slice(4);
          }
          if (data.length) this.events.push({ event, data: JSON.parse(data.join('\n')), ...(id !== undefined ? { id } : {}) });
          this.wake();
        }
      }
      this.ended = new Error('stream ended');
    } catch (err) {
      this.ended = err as Error;
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first event (from the start of the stream) named `event` whose data passes `check`. */
  async next<T>(event: string, check: (data: T) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => e.event === event && check(e.data as T));
      if (hit) return hit.data as T;
      if (this.ended) throw new Error(`no matching ${event} event before the stream ended (${this.ended.message}); got ${this.summary()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching ${event} event within ${timeoutMs} ms; got ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  private summary(): string {
    const counts = new Map<string, number>();
    for (const e of this.events) counts.set(e.event, (counts.get(e.event) ?? 0) + 1);
    const last = this.events.at(-1);
    return `${[...counts].map(([k, n]) => `${k}×${n}`).join(', ') || 'nothing'}${last ? `; last: ${JSON.stringify(last).slice(0, 400)}` : ''}`;
  }

  close(): void {
    this.abort.abort();
  }
}
