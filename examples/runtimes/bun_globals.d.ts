// The part of Bun's globals that bun.ts and redis_bun.ts use, so that `deno check` can
// type-check the Bun example without bun-types. Bun projects get these
// types from `@types/bun` instead.

declare const Bun: {
  serve(options: {
    hostname?: string;
    port?: number;
    routes?: Record<string, (request: Request) => Promise<Response>>;
    fetch(request: Request): Promise<Response>;
  }): { readonly url: URL };
  RedisClient: new (url?: string) => {
    send(command: string, args: string[]): Promise<unknown>;
  };
};
