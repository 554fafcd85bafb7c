/**
 * The demo's languages and the few words it translates: enough to see the
 * `language` value follow the visitor through login and logout.
 *
 * @module
 */

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
