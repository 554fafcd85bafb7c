/**
 * Messages over a WebSocket, counted in the session: `session.save()` from
 * code that runs after the response (the upgrade) was returned.
 *
 * @module
 */
import type { PageContext } from "../context.ts";
import { html } from "../html.ts";
import { t } from "../i18n.ts";
import { renderPage } from "../layout.ts";
import { problem } from "../responses.ts";

/**
 * `GET /messages`: the page, with a script that sends messages over the
 * socket and shows the count the server keeps in the session.
 *
 * @param context The request.
 * @returns The messages page.
 */
export function messages(context: PageContext): Response {
  // Stored now, in an ordinary request: after the upgrade no cookie can be
  // sent, so the socket can only change a session that already exists.
  const count = context.session.update("messages", (n = 0) => n);
  return renderPage(
    context,
    t(context.language, "messages"),
    html`
      <p class="big"><output id="messages">${count}</output></p>
      <p>
        Messages sent over a WebSocket, counted in the session by the socket's
        <code>onmessage</code> with <code>await session.save(…)</code>. Reload
        the page: the count stays.
      </p>
      <form id="send" class="inline">
        <button type="submit" disabled>Send a message</button>
      </form>
      <p id="socket-status">connecting…</p>
      <script type="module">
        const output = document.getElementById("messages");
        const status = document.getElementById("socket-status");
        const button = document.querySelector("#send button");
        const url = new URL("/messages/socket", location.href);
        url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
        const socket = new WebSocket(url);
        socket.onopen = () => {
          status.textContent = "connected";
          button.disabled = false;
        };
        socket.onmessage = (event) => {
          output.textContent = event.data;
        };
        socket.onclose = () => {
          status.textContent = "disconnected";
          button.disabled = true;
        };
        document.getElementById("send").onsubmit = (event) => {
          event.preventDefault();
          socket.send("hello");
        };
      </script>
    `,
  );
}

/**
 * `GET /messages/socket`: the WebSocket. Each message adds one to the
 * session's count, saved with a compare-and-swap, and is answered with it.
 *
 * @param context The request.
 * @returns The upgrade response, or a problem.
 */
export function messageSocket(context: PageContext): Response {
  const { request, session, url } = context;
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return problem(426, "This address takes WebSocket connections only");
  }
  // WebSocket handshakes are not subject to CORS: a page on another site
  // could open one with this browser's cookie, so only our own pages may.
  if (request.headers.get("origin") !== url.origin) {
    return problem(403, "WebSocket from another origin refused");
  }
  if (session.id === null) {
    return problem(409, "No session yet: open /messages first");
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onmessage = async () => {
    try {
      await session.save(() => {
        session.update("messages", (n = 0) => n + 1);
      });
      socket.send(String(session.get("messages") ?? 0));
    } catch (error) {
      // The session ended meanwhile (logout in another tab, expiry).
      socket.close(
        4000,
        error instanceof TypeError ? "session ended" : "error",
      );
    }
  };
  return response;
}
