/**
 * What the demo keeps in a session: the one type every page reads it with.
 *
 * @module
 */
import type { Language } from "./i18n.ts";

/** One line of the shopping list. */
export interface ShoppingItem {
  /** Stable across edits, so a form in a stale tab names the right item. */
  id: string;
  name: string;
  done: boolean;
}

/** The session values of the demo. */
export interface DemoData {
  /** Visits of the counter page. */
  visits: number;
  /** Kept across login and logout (tessera's default persistent field). */
  language: Language;
  /** Messages sent over the messages page's WebSocket (`session.save()`). */
  messages: number;
  /** Changed in place by the shopping page, without `markChanged()`. */
  shopping: ShoppingItem[];
}
