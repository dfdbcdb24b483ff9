// Samantha's page: sign in with a person's token (or an invitation link, #token=...) to talk,
// or with the admin token to run the place. Views are chosen by the address's #fragment,
// so the back button works on a phone.
import { $, api, session, failed, healthy, signedOut, whenUp, tryNow } from "./core.js";
import { openChat, closeChat, forgetOutbox, place, readEvents, wireChat } from "./chat.js";
import { openMemory, wireMemory } from "./memory.js";
import { openUs } from "./us.js";
import { openLetters, wireLetters } from "./letters.js";
import { openOperator, closeOperator, wireOperator } from "./operator.js";
import { offerVoice, stopVoice, wireVoice } from "./voice.js";

const VIEWS = { person: ["chat", "memory", "letters"], admin: ["operator"] };
// load what they show on opening
const OPEN = {
  memory: () => Promise.all([openUs(), openMemory()]), letters: openLetters, operator: openOperator,
};
let greeting = "";

function show(view) {
  const was = document.querySelector("main:not([hidden])");
  for (const name of ["signin", "chat", "memory", "letters", "operator"]) $(name).hidden = name !== view;
  if (view !== "operator") closeOperator();
  const signedIn = view !== "signin";
  $("menu").hidden = !signedIn;
  $("mine").hidden = session.admin;
  $("tabs").hidden = !signedIn || VIEWS[session.admin ? "admin" : "person"].length < 2;
  for (const tab of $("tabs").querySelectorAll("[data-view]")) {
    tab.hidden = !VIEWS[session.admin ? "admin" : "person"].includes(tab.dataset.view);
    if (tab.dataset.view === view) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if ((!was || was.id !== view) && OPEN[view]) OPEN[view]();
  if (view === "chat" && was && was.id !== "chat") $("say").focus();
}

function route() {
  if (!session.token) return show("signin");
  const views = VIEWS[session.admin ? "admin" : "person"];
  const wanted = location.hash.slice(1);
  show(views.includes(wanted) ? wanted : views[0]);
}

// "person", "admin", "bad" (the token is not valid) or "offline".
async function whoIs(token) {
  session.token = token;
  try {
    const me = await api("/v1/me");
    if (me.ok) return "person";
    if (me.status !== 401) return "offline";
    const people = await api("/v1/people");
    if (people.ok) return "admin";
    return people.status === 401 ? "bad" : "offline";
  } catch { return "offline"; }
}

async function signIn(token) {
  const who = await whoIs(token);
  if (who === "bad" || who === "offline") {
    session.token = "";
    if (who === "offline") failed("server");
    else healthy("server");
    return who;
  }
  healthy("server");
  localStorage.setItem("samantha.token", token);
  session.admin = who === "admin";
  $("who").textContent = session.admin ? "Operator" : "You";
  route();
  if (!session.admin) {
    $("say").focus();  // ready to type while the history loads
    await openChat(greeting);
    listen();
  }
  return who;
}

// Her own messages, notices and farewells arrive on the event stream. It resumes from the
// last event this device saw, so nothing is missed and nothing is shown twice.
let listening = null;
async function listen() {
  if (listening) listening.abort();
  const mine = (listening = new AbortController());
  const key = `samantha.event.${session.token.slice(-12)}`;
  let quick = true;  // a stream that ends is reopened once at once before calling it an outage
  while (!mine.signal.aborted) {
    const last = localStorage.getItem(key);
    const fresh = !last;  // a new device: catch up on what was kept, show only recent notices
    try {
      const res = await api(fresh ? "/v1/events?after=0" : "/v1/events",
        { headers: last ? { "Last-Event-ID": last } : {}, signal: mine.signal });
      if (res.status === 401) { signedOut(); return; }
      if (!res.ok) throw new Error(`events: ${res.status}`);
      healthy("server");
      await readEvents(res, (event, data, id) => {
        if (id) localStorage.setItem(key, id);
        quick = true;
        const recent = !fresh || Date.now() / 1000 - (data.at || 0) < 86400;
        if (event === "notice" && recent) note(data.text);
        if (data.message && !place(data.message, "proactive") && recent) note(data.message.content.slice(0, 140));
      });
    } catch {
      if (mine.signal.aborted) return;
    }
    if (!quick) failed("server");
    quick = false;
    await whenUp();
  }
}

function note(text) { $("notice-text").textContent = text; $("notice").hidden = false; }

function signOut(message = "") {
  if (listening) listening.abort();
  stopVoice();
  closeChat();
  localStorage.removeItem("samantha.token");
  session.token = "";
  session.admin = false;
  $("menu").open = false;
  $("signin-error").textContent = message;
  history.replaceState(null, "", location.pathname);
  show("signin");
  $("token").focus();
}

function wire() {
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("signin-error").textContent = "";
    const who = await signIn($("token").value.trim());
    if (who === "bad") $("signin-error").textContent = "That token didn't work. Check it, or ask for a new invitation.";
    if (who === "offline") $("signin-error").textContent = "Samantha can't be reached right now; try again in a moment.";
    if (who === "person" || who === "admin") $("token").value = "";
  });
  $("retry-now").addEventListener("click", tryNow);
  $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
  $("signout").addEventListener("click", () => signOut());
  $("export").addEventListener("click", download);
  $("delete").addEventListener("click", deleteMe);
  $("menu").addEventListener("keydown", (e) => {
    if (e.key === "Escape") { $("menu").open = false; $("menu").querySelector("summary").focus(); }
  });
  window.addEventListener("hashchange", () => { if (session.token) route(); });
  window.addEventListener("samantha:signed-out", () => {
    if (session.token) signOut("Your token no longer works. Ask for a new invitation.");
  });
  wireChat();
  wireMemory();
  wireLetters();
  wireOperator();
  wireVoice();
}

async function download() {
  $("mine-status").textContent = "Packing your archive…";
  const res = await api("/v1/me/export").catch(() => null);
  if (!res || !res.ok) { $("mine-status").textContent = "Couldn't make the archive; try again."; return; }
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1];
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = name || "samantha.samantha.zip";
  link.click();
  URL.revokeObjectURL(link.href);
  $("mine-status").textContent = "Downloaded: your conversations, memories and letters, yours to keep.";
}

async function deleteMe() {
  if (!confirm("Delete everything Samantha keeps about you: conversations, memories, letters, your token? This cannot be undone. You can download everything first.")) return;
  const res = await api("/v1/me", { method: "DELETE" }).catch(() => null);
  if (!res || res.status !== 204) { $("mine-status").textContent = "Couldn't delete; nothing was removed."; return; }
  forgetOutbox();
  signOut("Deleted. Take care of yourself.");
}

async function start() {
  wire();
  const invited = new URLSearchParams(location.hash.slice(1)).get("token");
  if (invited) history.replaceState(null, "", location.pathname);
  const status = await fetch("/v1/status").then((r) => r.json()).catch(() => null);
  greeting = (status && status.greeting) || "";
  if (status && status.warning) note(status.warning);
  offerVoice(status && status.voice);
  const token = invited || localStorage.getItem("samantha.token") || "";
  if (!token) return show("signin");
  for (;;) {
    const who = await signIn(token);
    if (who !== "offline") break;
    show("signin");  // she can't be reached: the banner says so, and we try again when she's back
    $("signin-error").textContent = "You'll be signed in as soon as she's back.";
    await whenUp();
  }
  if (!session.token) { show("signin"); $("signin-error").textContent = invited ? "That invitation didn't work; ask for a new one." : ""; }
}

start();
