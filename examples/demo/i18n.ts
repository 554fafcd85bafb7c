/**
 * The demo's languages and what it translates: the menu words, the one-shot
 * messages (flash values) and the devices page, enough to see the
 * `language` value follow the visitor through login and logout.
 *
 * @module
 */
import { type Html, html } from "./html.ts";

/** The languages the switcher offers. */
export const LANGUAGES = ["en", "de", "fr"] as const;

/** One of {@link LANGUAGES}. */
export type Language = typeof LANGUAGES[number];

/** Each language's name, in that language. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = {
  en: "English",
  de: "Deutsch",
  fr: "Français",
};

const WORDS = {
  en: {
    welcome: "Welcome",
    home: "Home",
    counter: "Counter",
    language: "Language",
    shopping: "Shopping list",
    messages: "Messages",
    devices: "Your devices",
    login: "Log in",
    logout: "Log out",
  },
  de: {
    welcome: "Willkommen",
    home: "Start",
    counter: "Zähler",
    language: "Sprache",
    shopping: "Einkaufsliste",
    messages: "Nachrichten",
    devices: "Ihre Geräte",
    login: "Anmelden",
    logout: "Abmelden",
  },
  fr: {
    welcome: "Bienvenue",
    home: "Accueil",
    counter: "Compteur",
    language: "Langue",
    shopping: "Liste de courses",
    messages: "Messages",
    devices: "Vos appareils",
    login: "Se connecter",
    logout: "Se déconnecter",
  },
} as const satisfies Record<Language, Record<string, string>>;

/** A word the demo translates. */
export type Word = keyof typeof WORDS.en;

/**
 * Whether a form value names a language the demo offers.
 *
 * @param value The submitted value.
 * @returns `true` for one of {@link LANGUAGES}.
 */
export function isLanguage(value: unknown): value is Language {
  return (LANGUAGES as readonly unknown[]).includes(value);
}

/**
 * Translates a word.
 *
 * @param language The visitor's language.
 * @param word The word.
 * @returns The word in that language.
 */
export function t(language: Language, word: Word): string {
  return WORDS[language][word];
}

const EN = {
  // One-shot messages, left with session.flash() before a redirect.
  welcome: (user: string) => `Welcome, ${user}`,
  signedOut: "You are signed out",
  sessionExpired: "Your session expired. Please sign in again.",
  deviceSignedOut: (device: string) => `${device} signed out`,
  alreadySignedOut: "That device was already signed out",
  noOtherSignedOut: "No other device was signed in",
  othersSignedOut: (n: number) =>
    `${n} other device${n === 1 ? "" : "s"} signed out`,
  // The devices page.
  devicesLoggedOut: (login: Html) =>
    html`You are not logged in. ${login} to see the devices where you are signed in.`,
  devicesLead: (user: string, devices: string) =>
    html`<strong>${user}</strong> is signed in on ${devices}. Each row is a
      session that <code>login()</code> recorded under the user.`,
  devicesCount: (n: number) => `${n} device${n === 1 ? "" : "s"}`,
  device: "Device",
  signedIn: "Signed in",
  lastSeen: "Last seen",
  action: "Action",
  thisDevice: "This device",
  logOutAbove: "Log out above",
  signOut: "Sign out",
  signOutOthers: "Sign out other devices",
  noOtherDevice: (user: string) => `No other device is signed in as ${user}.`,
  justNow: "just now",
  minutesAgo: (n: number) => `${n} min ago`,
  hoursAgo: (n: number) => `${n} h ago`,
  devicesExplained: html`The list comes from
    <code>listSessions(store, user)</code>: login times, last-seen times (kept
    to within five minutes) and what the app recorded at login, here a summary
    of the user agent such as <code>{ device: "Firefox on Linux" }</code>. It
    never holds a token. “Sign out” calls
    <code>revokeSession(store, user, id)</code>; “Sign out other devices”
    calls <code>revokeUserSessions(store, user, { except: session.id })</code>.
    A request already in flight on a signed-out device cannot bring its
    session back.`,
};

/** The demo's sentences, in one language. */
export type Messages = typeof EN;

const MESSAGES: Readonly<Record<Language, Messages>> = {
  en: EN,
  de: {
    welcome: (user) => `Willkommen, ${user}`,
    signedOut: "Sie sind abgemeldet",
    sessionExpired:
      "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
    deviceSignedOut: (device) => `${device} abgemeldet`,
    alreadySignedOut: "Dieses Gerät war schon abgemeldet",
    noOtherSignedOut: "Kein anderes Gerät war angemeldet",
    othersSignedOut: (n) =>
      `${n} ${n === 1 ? "anderes Gerät" : "andere Geräte"} abgemeldet`,
    devicesLoggedOut: (login) =>
      html`Sie sind nicht angemeldet. ${login}, um die Geräte zu sehen, auf denen Sie angemeldet sind.`,
    devicesLead: (user, devices) =>
      html`<strong>${user}</strong> ist auf ${devices} angemeldet. Jede Zeile
        ist eine Sitzung, die <code>login()</code> unter dem Benutzer
        verzeichnet hat.`,
    devicesCount: (n) => `${n} ${n === 1 ? "Gerät" : "Geräten"}`,
    device: "Gerät",
    signedIn: "Angemeldet",
    lastSeen: "Zuletzt gesehen",
    action: "Aktion",
    thisDevice: "Dieses Gerät",
    logOutAbove: "Oben abmelden",
    signOut: "Gerät abmelden",
    signOutOthers: "Andere Geräte abmelden",
    noOtherDevice: (user) => `Kein anderes Gerät ist als ${user} angemeldet.`,
    justNow: "gerade eben",
    minutesAgo: (n) => `vor ${n} Min.`,
    hoursAgo: (n) => `vor ${n} Std.`,
    devicesExplained: html`Die Liste kommt von
      <code>listSessions(store, user)</code>: Anmeldezeiten, Zeiten der letzten
      Nutzung (auf fünf Minuten genau) und was die App bei der Anmeldung
      festgehalten hat, hier eine Zusammenfassung des User-Agents wie
      <code>{ device: "Firefox on Linux" }</code>. Sie enthält nie ein Token.
      „Gerät abmelden“ ruft <code>revokeSession(store, user, id)</code> auf,
      „Andere Geräte abmelden“
      <code>revokeUserSessions(store, user, { except: session.id })</code>.
      Eine Anfrage, die auf einem abgemeldeten Gerät schon unterwegs ist, kann
      dessen Sitzung nicht zurückbringen.`,
  },
  fr: {
    welcome: (user) => `Bienvenue, ${user}`,
    signedOut: "Vous êtes déconnecté",
    sessionExpired: "Votre session a expiré. Veuillez vous reconnecter.",
    deviceSignedOut: (device) => `${device} déconnecté`,
    alreadySignedOut: "Cet appareil était déjà déconnecté",
    noOtherSignedOut: "Aucun autre appareil n’était connecté",
    othersSignedOut: (n) =>
      n === 1
        ? "1 autre appareil déconnecté"
        : `${n} autres appareils déconnectés`,
    devicesLoggedOut: (login) =>
      html`Vous n’êtes pas connecté. ${login} pour voir les appareils où vous êtes connecté.`,
    devicesLead: (user, devices) =>
      html`<strong>${user}</strong> est connecté sur ${devices}. Chaque ligne
        est une session que <code>login()</code> a enregistrée sous
        l’utilisateur.`,
    devicesCount: (n) => `${n} appareil${n === 1 ? "" : "s"}`,
    device: "Appareil",
    signedIn: "Connecté",
    lastSeen: "Vu pour la dernière fois",
    action: "Action",
    thisDevice: "Cet appareil",
    logOutAbove: "Se déconnecter en haut",
    signOut: "Déconnecter",
    signOutOthers: "Déconnecter les autres appareils",
    noOtherDevice: (user) =>
      `Aucun autre appareil n’est connecté en tant que ${user}.`,
    justNow: "à l’instant",
    minutesAgo: (n) => `il y a ${n} min`,
    hoursAgo: (n) => `il y a ${n} h`,
    devicesExplained: html`La liste vient de
      <code>listSessions(store, user)</code> : heures de connexion, dernières
      visites (à cinq minutes près) et ce que l’application a noté à la
      connexion, ici un résumé du user agent comme
      <code>{ device: "Firefox on Linux" }</code>. Elle ne contient jamais de
      jeton. « Déconnecter » appelle
      <code>revokeSession(store, user, id)</code> ; « Déconnecter les autres
      appareils » appelle
      <code>revokeUserSessions(store, user, { except: session.id })</code>.
      Une requête déjà en route sur un appareil déconnecté ne peut pas faire
      revivre sa session.`,
  },
};

/**
 * The demo's sentences in a language.
 *
 * @param language The visitor's language.
 * @returns The messages and the devices page's text.
 */
export function messages(language: Language): Messages {
  return MESSAGES[language];
}
