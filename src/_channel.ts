// Which channel a request came over, HTTPS or plain HTTP: the scheme its
// trusted proxies report, or its URL's. Sessions of one channel are never
// sessions of the other.
import type { ResolvedOptions } from "./_resolve_options.ts";

/** Whether `request` came over HTTPS. */
export function isHttps(request: Request, options: ResolvedOptions): boolean {
  const proxies = options.trustProxy;
  if (proxies !== null) {
    const proto = forwardedProto(request.headers, proxies);
    if (proto !== undefined) return proto === "https";
  }
  return request.url.startsWith("https:");
}

/**
 * The scheme the trusted proxies report, from the one header they write.
 * Proxies append, so the element `hops` from the right is the one the
 * outermost trusted proxy wrote; anything left of it came from the client.
 */
function forwardedProto(
  headers: Headers,
  proxies: NonNullable<ResolvedOptions["trustProxy"]>,
): string | undefined {
  const element = trustedElement(headers.get(proxies.header), proxies.hops);
  if (element === undefined) return undefined;
  if (proxies.header === "x-forwarded-proto") {
    return element.trim().toLowerCase();
  }
  for (const pair of element.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === "proto") {
      return pair.slice(eq + 1).trim().replace(/^"|"$/g, "").toLowerCase();
    }
  }
  // The trusted element says nothing of the scheme: the URL's counts.
  return undefined;
}

/** The element `hops` from the right of a comma-separated header. */
function trustedElement(
  value: string | null,
  hops: number,
): string | undefined {
  if (value === null) return undefined;
  const elements = value.split(",");
  return elements.length < hops ? undefined : elements[elements.length - hops];
}
