/**
 * Every page of the demo, in one table. To add a page, write its handler
 * under `pages/` and list it here; give it `nav` to link it from the menu.
 *
 * @module
 */
import type { Route } from "./context.ts";
import { counter } from "./pages/counter.ts";
import {
  devices,
  signOutDevice,
  signOutOtherDevices,
} from "./pages/devices.ts";
import { home } from "./pages/home.ts";
import { languageForm, setLanguage } from "./pages/language.ts";
import { login, loginForm, logout } from "./pages/login.ts";
import { messages, messageSocket } from "./pages/messages.ts";
import {
  addItem,
  removeItem,
  shoppingList,
  toggleItem,
} from "./pages/shopping.ts";

/** The demo's routes, matched by method and exact path. */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/", handle: home, nav: "home" },
  { method: "GET", path: "/counter", handle: counter, nav: "counter" },
  { method: "GET", path: "/language", handle: languageForm, nav: "language" },
  { method: "POST", path: "/language", handle: setLanguage },
  { method: "GET", path: "/shopping", handle: shoppingList, nav: "shopping" },
  { method: "POST", path: "/shopping/add", handle: addItem },
  { method: "POST", path: "/shopping/toggle", handle: toggleItem },
  { method: "POST", path: "/shopping/remove", handle: removeItem },
  { method: "GET", path: "/messages", handle: messages, nav: "messages" },
  { method: "GET", path: "/messages/socket", handle: messageSocket },
  {
    method: "GET",
    path: "/devices",
    handle: devices,
    nav: "devices",
    userOnly: true,
  },
  { method: "POST", path: "/devices/sign-out", handle: signOutDevice },
  {
    method: "POST",
    path: "/devices/sign-out-others",
    handle: signOutOtherDevices,
  },
  { method: "GET", path: "/login", handle: loginForm },
  { method: "POST", path: "/login", handle: login },
  { method: "POST", path: "/logout", handle: logout },
];
