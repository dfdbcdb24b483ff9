// The conversation: history that loads as you scroll back, replies streamed word by word,
// and an outbox that keeps what you said (through outages and reloads) until the server
// has stored it and she has answered. A message is sent once: after a failure the page
// first asks the history whether the server kept it, and from then on asks only for the
// reply (POST .../reply). Every stored message is shown once, by id.
import {
  $, api, session, el, when, announce, failed, healthy, isUp, recovered, signedOut, whenUp,
} from "./core.js";

const WAITING = { send: "Not sent yet; it will go once she's back.", reply: "Kept; she'll answer once she's back." };

const PAGE = 30;
let conversation = null;
let oldest = null;     // the oldest stored message on screen, to page back from
let newest = 0;        // the newest stored message on screen, to catch up from
let more = false;
let loading = false;
let generation = 0;    // bumped on sign-out, so work for the last person stops
const shown = new Set();
// [{key, text, after, stage: "send" | "reply", unsure?, id?}], oldest first. `after` is the
// newest message on screen when it was written; `unsure` means it may have been stored.
let outbox = [];
let pumping = false;

const boxKey = () => `samantha.outbox.${session.token.slice(-12)}`;
const save = () => localStorage.setItem(boxKey(), JSON.stringify(outbox));
const scroller = () => $("scroller");
const atBottom = () => scroller().scrollHeight - scroller().scrollTop - scroller().clientHeight < 80;
const toBottom = () => { scroller().scrollTop = scroller().scrollHeight; };
const liFor = (item) => $("log").querySelector(`li[data-key="${item.key}"]`);

export async function openChat(greeting) {
  generation += 1;
  const mine = generation;
  shown.clear();
  oldest = null;
  newest = 0;
  conversation = null;
  // what was waiting to be said (and anything said while the history loads) comes first
  outbox = JSON.parse(localStorage.getItem(boxKey()) || "[]");
  $("log").replaceChildren(...outbox.map(pendingBubble));
  while (!conversation) {
    try {
      conversation = await latestConversation();
      healthy("server");
    } catch (error) {
      if (error.status === 401) { signedOut(); return; }
      failed("server");
      await whenUp();
    }
    if (mine !== generation) return;
  }
  await loadEarlier();
  for (const item of outbox) {  // kept by the server before a reload: show it once
    const there = item.id && $("log").querySelector(`li[data-id="${item.id}"]`);
    // the history's bubble takes its place, and says it is still waiting: the pump that will
    // say so may be the last sign-in's, asleep until she is back
    if (there) { liFor(item).remove(); there.dataset.key = item.key; note(there, waitingNote(item)); }
  }
  if (!shown.size && !outbox.length && greeting) {
    $("log").append(bubble({ role: "assistant", content: greeting, status: "greeting" }));
  }
  toBottom();
  pump();
}

// The person's latest conversation, or a new one. Throws when the server can't say.
async function latestConversation() {
  const json = async (res) => {
    if (res.ok) return res.json();
    throw Object.assign(new Error(`conversations: ${res.status}`), { status: res.status });
  };
  const found = await api("/v1/conversations?limit=1").then(json);
  if (found.length) return found[0].id;
  return (await api("/v1/conversations", { method: "POST", body: "{}" }).then(json)).id;
}

// The conversation on screen (the voice joins it), or null while it loads.
export const currentConversation = () => conversation;

// Her reply as it is spoken, in a bubble of its own until it is stored (then `place` it).
export function liveBubble() {
  const li = bubble({ role: "assistant", content: "", status: "live" });
  $("log").append(li);
  toBottom();
  return li;
}

export function closeChat() {
  generation += 1;
  conversation = null;
  outbox = [];
  $("log").replaceChildren();
}

export function forgetOutbox() { localStorage.removeItem(boxKey()); }

function bubble(m) {
  const partial = m.role === "assistant" && !["complete", "greeting", "live", undefined].includes(m.status);
  const li = el("li", { class: `${m.role} ${m.status || ""}${partial ? " interrupted" : ""}` },
    el("span", { class: "visually-hidden", text: m.role === "user" ? "You said: " : "Samantha said: " }),
    el("span", { class: "text", text: m.content }));
  if (m.id) { li.dataset.id = m.id; li.title = when(m.created_at); }
  return li;
}

function note(li, text) {
  let small = li.querySelector(".note");
  if (!text) { if (small) small.remove(); return; }
  if (!small) li.append((small = el("small", { class: "note" })));
  small.textContent = text;
}

function pendingBubble(item) {
  const li = bubble({ role: "user", content: item.text, status: "pending" });
  li.dataset.key = item.key;
  note(li, waitingNote(item));
  return li;
}

const waitingNote = (item) => (item.stage === "send" ? "Sending…" : "Kept; waiting for her reply…");

function stored(li, id) {
  li.dataset.id = id;
  shown.add(id);
  newest = Math.max(newest, id);
}

// A stored message (from history, a catch-up or the event stream), in its place.
// False when it belongs to another conversation.
export function place(m, how = "") {
  if (m.conversation_id !== conversation) return false;
  if (shown.has(m.id)) return true;
  const stick = atBottom();
  shown.add(m.id);
  newest = Math.max(newest, m.id);
  const li = bubble(m);
  if (how) li.classList.add(how);
  $("log").insertBefore(li, $("log").querySelector(".pending, .live"));
  tidy();
  if (stick) toBottom();
  return true;
}

// A reply cut off and then answered again is shown as the answer alone.
function tidy() {
  for (const li of $("log").querySelectorAll("li.assistant.interrupted:not(.live)")) {
    const next = li.nextElementSibling;
    if (next && next.classList.contains("assistant")) li.remove();
  }
}

async function loadEarlier() {
  if (loading || !conversation) return;
  loading = true;
  const before = oldest ? `&before=${oldest}` : "";
  let page = null;
  try {
    const res = await api(`/v1/conversations/${conversation}/messages?limit=${PAGE}${before}`);
    if (res.ok) page = await res.json();
    healthy("server");
  } catch { failed("server"); }
  loading = false;
  if (!page) return;
  const box = scroller();
  const fromBottom = box.scrollHeight - box.scrollTop;
  for (const m of page.reverse()) {
    if (shown.has(m.id)) continue;
    shown.add(m.id);
    newest = Math.max(newest, m.id);
    $("log").prepend(bubble(m));
  }
  if (page.length) oldest = page[page.length - 1].id;
  more = page.length === PAGE;
  $("earlier").hidden = !more;
  tidy();
  box.scrollTop = box.scrollHeight - fromBottom;  // the messages you were reading stay put
}

// Ask the history what the server has that this page hasn't shown, and show it.
// Returns the messages, or null when the server can't be reached.
async function catchUp(after = newest) {
  let found;
  try {
    const res = await api(`/v1/conversations/${conversation}/messages?after=${after}&limit=500`);
    if (!res.ok) return null;
    found = await res.json();
  } catch { failed("server"); return null; }
  healthy("server");
  return found;
}

export function say(text) {
  const key = `${Date.now()}.${Math.random().toString(36).slice(2)}`;
  const item = { key, text, after: newest, stage: "send" };
  outbox.push(item);
  save();
  $("log").append(pendingBubble(item));
  toBottom();
  if (conversation) pump();  // else openChat sends it once the conversation is known
}

async function pump() {
  if (pumping) return;
  pumping = true;
  const mine = generation;
  try {
    while (outbox.length && mine === generation) {
      if (!(await deliver(outbox[0], mine))) break;
      outbox.shift();
      save();
    }
  } finally {
    pumping = false;
    // signed in again meanwhile: that chat's pump() found this one running and left its outbox
    if (mine !== generation && conversation) pump();
  }
}

// Try until this message is stored and answered (true), or it is refused (true, with a note),
// or whoever sent it signed out (false).
async function deliver(item, mine) {
  for (;;) {
    if (!isUp()) note(liFor(item), WAITING[item.stage]);
    await whenUp();
    if (mine !== generation) return false;
    if (item.stage === "send" && item.unsure) {  // did the server keep it before the line broke?
      const found = await catchUp(item.after);
      if (found === null) continue;
      if (settle(item, found)) return true;
    }
    const send = item.stage === "send";
    const path = `/v1/conversations/${conversation}/${send ? "messages" : "reply"}`;
    note(liFor(item), waitingNote(item));
    if (send) { item.unsure = true; save(); }  // from here on it may be stored, even if we reload
    const typing = typingAfter(liFor(item));  // she reads and thinks until her first word
    let res;
    try {
      res = await api(path, { method: "POST", body: send ? JSON.stringify({ content: item.text }) : undefined });
    } catch {
      if (typing) typing.remove();
      note(liFor(item), WAITING[item.stage]);
      failed("server");
      continue;
    }
    healthy("server");
    if (res.ok) {
      if (await stream(item, res, typing)) return true;
      continue;
    }
    if (typing) typing.remove();
    const body = await res.json().catch(() => ({}));
    const error = body.error || {};
    if (error.code === "departing") {  // she is leaving for good: say so once, never retry
      const li = liFor(item);
      if (li) {
        li.classList.replace("pending", "refused");
        note(li, error.message);
        delete li.dataset.key;
      }
      announce(error.message);
      return true;
    }
    if (res.status >= 500 || res.status === 429) {  // she can't answer now; try again later
      if (error.kept_message) keep(item, error.kept_message);
      save();
      note(liFor(item), WAITING[item.stage]);
      failed("model", (error.message || "").replace(/^Operating System Not Found:\s*/, ""));
      continue;
    }
    if (res.status === 409 && !send) {  // already answered: the reply is in the history
      const found = await catchUp();
      if (found === null) continue;
      settle(item, found);
      return true;
    }
    if (res.status === 401) { signedOut(); return false; }
    const li = liFor(item);
    if (li) {
      li.classList.replace("pending", "refused");
      note(li, `Not sent: ${error.message || `error ${res.status}`}.`);
      delete li.dataset.key;
    }
    return true;
  }
}

// The server has stored this message: from now on only her reply is asked for.
function keep(item, message) {
  item.stage = "reply";
  item.unsure = false;
  item.id = message.id;
  const li = liFor(item);
  const there = $("log").querySelector(`li[data-id="${message.id}"]`);
  if (there && there !== li) {  // already on screen from the history: keep that one
    if (li) li.remove();
    there.dataset.key = item.key;
  } else if (li) { stored(li, message.id); li.classList.remove("pending"); }
}

// Fold a catch-up into the log around this item. True when her answer to it is there too.
function settle(item, found) {
  let answered = false;
  for (const m of found) {
    const mine = m.role === "user" && m.content === item.text && m.id > (item.after || 0);
    if (item.stage === "send" && mine) keep(item, m);
    else if (item.stage === "reply" && m.id > item.id && m.role === "assistant" && m.status === "complete") {
      answered = true;
      place(m);
    } else place(m);
  }
  if (item.stage === "send") item.unsure = false;  // it was never stored: send it
  save();
  if (answered) note(liFor(item), "");
  return answered;
}

// The typing indicator, unless a reply that broke off is waiting to be answered again.
function typingAfter(li) {
  if (!li || $("log").querySelector("li.assistant.interrupted.live")) return null;
  const stick = atBottom();
  const typing = el("li", { class: "assistant typing live", role: "status" },
    el("span", { class: "visually-hidden", text: "Samantha is typing…" }),
    el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")));
  li.after(typing);
  if (stick) toBottom();
  return typing;
}

// Read one streamed reply. True when it finished and was stored.
async function stream(item, res, typing) {
  let reply = $("log").querySelector("li.assistant.interrupted.live");
  let started = false;
  let text = "";
  let ended = false;
  let broke = "";
  const onEvent = (event, data) => {
    if (event === "accepted") { keep(item, data.message); save(); }
    if (event === "token") {
      if (!started) {
        started = true;
        recovered();
        reply = reply || bubble({ role: "assistant", content: "", status: "live" });
        reply.classList.remove("interrupted");
        if (typing) typing.replaceWith(reply); else if (!reply.isConnected) $("log").append(reply);
      }
      const stick = atBottom();
      text += data.text;
      reply.querySelector(".text").textContent = text;
      if (stick) toBottom();
    }
    if (event === "done") {
      ended = true;
      if (!reply) onEvent("token", { text: "" });
      reply.classList.remove("live");
      reply.querySelector(".text").textContent = data.message.content;
      stored(reply, data.message.id);
      reply.title = when(data.message.created_at);
      note(liFor(item), "");
      announce(`Samantha said: ${data.message.content}`);
    }
    if (event === "error") broke = (data.error && data.error.message) || "her reply broke off";
  };
  try { await readEvents(res, onEvent); } catch { /* the connection broke */ }
  if (typing) typing.remove();
  if (ended) { tidy(); return true; }
  save();
  if (reply) reply.classList.add("interrupted");  // stays .live: the retry streams into it
  if (broke) failed("model", "Her reply broke off; asking again…");
  else failed("server", "The connection broke while she was answering.");
  return false;
}

export async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      const id = /^id: (\d+)$/m.exec(block)?.[1];
      if (event && data) onEvent(event, JSON.parse(data), id);
    }
  }
}

export function wireChat() {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("say").value.trim();
    if (!text) return;
    $("say").value = "";
    say(text);
    $("say").focus();
  });
  $("say").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("earlier").addEventListener("click", loadEarlier);
  new IntersectionObserver((seen) => { if (seen.some((s) => s.isIntersecting) && more) loadEarlier(); },
    { root: scroller() }).observe($("earlier"));
}
