// Attacker's checklist, part 8: size. A session that would exceed the
// store's value limit fails with SessionTooLargeError naming both sizes, the
// client is not told "saved", and the data stored before is intact.
import assert from "node:assert/strict";
import {
  getSession,
  type Session,
  SessionTooLargeError,
  withSession,
} from "../../mod.ts";
import { storedRecord, STORES } from "../_helpers.ts";
import {
  HTTP,
  plantSession,
  type Report,
  reporter,
  request,
  setCookieValue,
} from "./_attack.ts";

const BIG = "x".repeat(70_000);
// Under the limit in characters, over it in UTF-8 bytes (2 each): what the
// store holds is bytes, whatever form tessera hands it the record in.
const WIDE = "\u00e9".repeat(40_000);
// Under the limit in bytes (60,000 and the record), though 3 bytes per
// character would be over it: measured, not refused on a bound.
const NEAR = "\u00e9".repeat(30_000);

for (const fixture of STORES) {
  Deno.test(`a session over the store's value limit fails, and the old data is intact (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    const errors: unknown[] = [];
    const onError = (error: unknown) => {
      errors.push(error);
      return new Response("too large", { status: 413 });
    };
    // Plain changes fail at save time (through onError); login() and
    // regenerate() save at once, so their promise rejects in the handler.
    const grow = (flow: (s: Session) => void | Promise<void>) =>
      withSession(async (req) => {
        try {
          await flow(getSession(req));
        } catch (error) {
          return onError(error);
        }
        return new Response("saved");
      }, { store, onError, persistentFieldsOnLogin: ["owner", "blob"] });
    try {
      for (
        const [name, flow] of [
          ["set on an existing session", (s: Session) => s.set("blob", BIG)],
          ["a value over the limit in bytes, not in characters", (
            s: Session,
          ) => s.set("blob", WIDE)],
          ["update on an existing session", (s: Session) => {
            s.update("owner", () => BIG);
          }],
          ["a value grown in place", (s: Session) => {
            s.set("list", []);
            (s.get("list") as string[]).push(BIG);
          }],
          ["regenerate() with a large value", async (s: Session) => {
            s.set("blob", BIG);
            await s.regenerate();
          }],
          ["login() keeping a large value", async (s: Session) => {
            s.set("blob", BIG);
            await s.login("ada");
          }],
        ] as const
      ) {
        await t.step(name, async () => {
          const token = await plantSession(store, HTTP, "small");
          const before = await storedRecord(store, token);
          const response = await grow(flow)(request(HTTP, `session=${token}`));
          assert.equal(
            response.status,
            413,
            "onError answered, not the handler",
          );
          assert.equal(await response.text(), "too large");
          assert.equal(
            setCookieValue(response, "session"),
            undefined,
            "no new cookie",
          );
          const error = errors.at(-1);
          assert.ok(error instanceof SessionTooLargeError, String(error));
          assert.ok(error.size > 70_000);
          assert.equal(error.limit, store.maxValueBytes);
          assert.match(
            error.message,
            new RegExp(`${error.size}.*${error.limit}`),
          );
          assert.deepEqual(await storedRecord(store, token), before, "intact");
          const report: Report =
            await (await reporter({ store })(request(HTTP, `session=${token}`)))
              .json();
          assert.equal(report.owner, "small", "and the old token still works");
        });
      }
      await t.step(
        "a value under the limit in bytes is saved, however many bytes a character could take",
        async () => {
          const token = await plantSession(store, HTTP, "small");
          const response = await grow((s) => s.set("blob", NEAR))(
            request(HTTP, `session=${token}`),
          );
          assert.equal(response.status, 200, await response.text());
          const read = withSession(
            (req) => new Response(getSession(req).get("blob") as string),
            { store },
          );
          const text = await (await read(request(HTTP, `session=${token}`)))
            .text();
          assert.equal(text, NEAR);
        },
      );
      await t.step(
        "a new session that is too large is never created",
        async () => {
          const sessions = async () => {
            let n = 0;
            for await (const _ of store.list(["session"])) n++;
            return n;
          };
          const count = await sessions();
          const response = await grow((s) => s.set("blob", BIG))(request(HTTP));
          assert.equal(response.status, 413);
          assert.deepEqual(response.headers.getSetCookie(), []);
          assert.equal(await sessions(), count);
          assert.ok(errors.at(-1) instanceof SessionTooLargeError);
        },
      );
    } finally {
      close();
    }
  });
}
