import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpStub {
  url: string;
  close(): Promise<void>;
}

/** A plain HTTP server on a random port of 127.0.0.1 answering with `handler`. */
export async function startHttpStub(handler: RequestListener): Promise<HttpStub> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
