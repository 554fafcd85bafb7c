/**
 * The shopping list: a list of objects, changed in place. None of these
 * handlers calls `set()` or `markChanged()` on an existing list: tessera
 * compares the values it handed out when it saves, and stores what changed.
 *
 * @module
 */
import type { PageContext } from "../context.ts";
import { csrfField, readField } from "../form.ts";
import { type Html, html } from "../html.ts";
import { t } from "../i18n.ts";
import { renderPage } from "../layout.ts";
import { problem, seeOther } from "../responses.ts";
import type { ShoppingItem } from "../session_data.ts";

/** Longest item name accepted. */
const MAX_NAME = 60;
/** Most items kept: a session is small by design (Deno KV caps a value at 64 KiB). */
const MAX_ITEMS = 30;

/**
 * `GET /shopping`: the list and a form to add to it.
 *
 * @param context The request.
 * @returns The shopping page.
 */
export function shoppingList(context: PageContext): Response {
  const items = context.session.get("shopping") ?? [];
  const list = items.length === 0
    ? html`<p class="empty">The list is empty.</p>`
    : html`<ul class="shopping">${
      items.map((item) => row(item, csrfField(context.session)))
    }</ul>`;
  return renderPage(
    context,
    t(context.language, "shopping"),
    html`
      <form method="post" action="/shopping/add" class="inline">
        ${csrfField(context.session)}
        <label for="item-name">Item</label>
        <input
          id="item-name"
          name="name"
          required
          maxlength="${MAX_NAME}"
          placeholder="Milk"
          autocomplete="off"
          autofocus
        >
        <button type="submit">Add</button>
      </form>
      ${list}
    `,
  );
}

function row(item: ShoppingItem, csrf: Html): Html {
  const tick = item.done ? "✓" : "";
  const title = item.done ? "Not bought yet" : "Bought";
  return html`
    <li class="${item.done ? "done" : ""}" data-item="${item.name}">
      <form method="post" action="/shopping/toggle">
        ${csrf}
        <input type="hidden" name="id" value="${item.id}">
        <button type="submit" class="tick" aria-pressed="${item.done}"
          title="${title}">${tick}</button>
      </form>
      <span class="name">${item.name}</span>
      <form method="post" action="/shopping/remove">
        ${csrf}
        <input type="hidden" name="id" value="${item.id}">
        <button type="submit" class="quiet">Remove</button>
      </form>
    </li>
  `;
}

/**
 * `POST /shopping/add`: appends an item.
 *
 * @param context The request.
 * @returns A redirect to the list.
 */
export async function addItem(context: PageContext): Promise<Response> {
  const name = (await readField(context.request, "name"))?.trim();
  if (!name || name.length > MAX_NAME) {
    return problem(400, `An item needs a name of 1 to ${MAX_NAME} characters`);
  }
  const item: ShoppingItem = {
    id: crypto.randomUUID().slice(0, 8),
    name,
    done: false,
  };
  const items = context.session.get("shopping");
  if (items === undefined) {
    context.session.set("shopping", [item]);
  } else if (items.length >= MAX_ITEMS) {
    return problem(400, `The list holds at most ${MAX_ITEMS} items`);
  } else {
    items.push(item); // in place: no set(), no markChanged()
  }
  return seeOther("/shopping");
}

/**
 * `POST /shopping/toggle`: marks an item bought, or not.
 *
 * @param context The request.
 * @returns A redirect to the list.
 */
export async function toggleItem(context: PageContext): Promise<Response> {
  const item = await findItem(context);
  if (item === undefined) return problem(404, "No such item on the list");
  item.done = !item.done; // in place, inside an object inside the list
  return seeOther("/shopping");
}

/**
 * `POST /shopping/remove`: takes an item off the list.
 *
 * @param context The request.
 * @returns A redirect to the list.
 */
export async function removeItem(context: PageContext): Promise<Response> {
  const item = await findItem(context);
  if (item === undefined) return problem(404, "No such item on the list");
  const items = context.session.get("shopping")!;
  items.splice(items.indexOf(item), 1); // in place
  return seeOther("/shopping");
}

async function findItem(
  context: PageContext,
): Promise<ShoppingItem | undefined> {
  const id = await readField(context.request, "id");
  return context.session.get("shopping")?.find((item) => item.id === id);
}
