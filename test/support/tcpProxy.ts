// A loopback TCP proxy in front of a real service (registry, PostgreSQL), so a
// test can cut it — an outage — without stopping the shared service. While cut,
// open connections are reset and new ones are reset on arrival.
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host:port replaced by the proxy's. */
  via(url: string): string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const proxy: TcpProxy = {
    port,
    via: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
    },
    cut() {
      cut = true;
      for (const s of open) s.resetAndDestroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}

/** Settings whose schema registry is reached through a proxy the test can cut (the registry outage tests). */
export async function behindRegistryProxy<S extends { registry: { url: string } }>(s: S): Promise<{ settings: S; proxy: TcpProxy }> {
  const url = new URL(s.registry.url);
  const proxy = await startTcpProxy(url.hostname, Number(url.port));
  return { settings: { ...s, registry: { ...s.registry, url: proxy.via(s.registry.url) } }, proxy };
}
