// The Node peer of bench/http.ts: Express 5, bare or with express-session
// (its default MemoryStore), answering the counter every row shares.
//
// Usage: node bench/_express_server.mjs <express-bare|express-session> <sessions>
// Listens on 127.0.0.1 on a free port, creates `sessions` sessions through
// its own HTTP interface, and prints one JSON line: { port, cookies }, like
// bench/http_server.ts.
import process from "node:process";
import express from "express";
import session from "express-session";

const [mode, countText] = process.argv.slice(2);
const count = Number(countText ?? 256);
if (
  (mode !== "express-bare" && mode !== "express-session") || !(count >= 1)
) {
  throw new Error(
    "usage: _express_server.mjs <express-bare|express-session> [sessions]",
  );
}

const app = express();
app.disable("x-powered-by");
app.disable("etag");
if (mode === "express-bare") {
  app.get("/", (_req, res) => {
    res.type("text/plain").send("visit 0");
  });
} else {
  app.use(session({
    // A fixed secret: the cookie is the signed session id (its default).
    secret: "a-benchmark-secret-of-at-least-32-characters",
    name: "session",
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", maxAge: 3_600_000 },
  }));
  app.get("/", (req, res) => {
    const visits = (req.session.visits ?? 0) + 1;
    req.session.visits = visits;
    res.type("text/plain").send(`visit ${visits}`);
  });
}

const server = app.listen(0, "127.0.0.1", async () => {
  const { port } = server.address();
  const cookies = [];
  if (mode === "express-session") {
    for (let i = 0; i < count; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.text();
      const match = /^(session=[^;]+)/.exec(
        res.headers.get("set-cookie") ?? "",
      );
      if (match === null) throw new Error("express-session set no cookie");
      cookies.push(match[1]);
    }
  }
  console.log(JSON.stringify({ port, cookies }));
});
process.on("SIGTERM", () => process.exit(0));
