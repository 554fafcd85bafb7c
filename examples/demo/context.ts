/**
 * What a page handler is given, and the shape of a route.
 *
 * @module
 */
import type { Session, SessionStore } from "@tessera/session";
import type { Language, Word } from "./i18n.ts";
import type { DemoData } from "./session_data.ts";

/** One request, as the pages see it. */
export interface PageContext {
  readonly request: Request;
  readonly url: URL;
  readonly session: Session<DemoData>;
  /**
   * The store `withSession` keeps sessions in, for the account functions
   * (`listSessions`, `revokeSession`, `revokeUserSessions`).
   */
  readonly store: SessionStore;
  /** The message a redirect left for this page, taken from the session. */
  readonly notice: string | undefined;
  /** The visitor's language, from the session, or English. */
  readonly language: Language;
  /** Whether the request came over HTTPS. */
  readonly https: boolean;
  /** This page on the other channel (HTTP ↔ HTTPS), when the demo serves both. */
  readonly otherChannel: URL | undefined;
  /** The pages listed in the navigation bar. */
  readonly nav: readonly NavEntry[];
}

/** Answers one route. */
export type PageHandler = (
  context: PageContext,
) => Response | Promise<Response>;

/** A link in the navigation bar. */
export interface NavEntry {
  readonly path: string;
  readonly label: Word;
  /** Listed only while a user is logged in. */
  readonly userOnly: boolean;
}

/** A method and an exact path, and what answers them. */
export interface Route {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly handle: PageHandler;
  /** Present for the pages that appear in the navigation bar. */
  readonly nav?: Word;
  /** With `nav`: list the page only while a user is logged in. */
  readonly userOnly?: boolean;
}
