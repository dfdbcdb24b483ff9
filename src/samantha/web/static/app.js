// Samantha's chat page: sign in with a token, talk, see replies stream in.
// When she can't be reached, a red banner says so and the page keeps trying with backoff;
// a message the server has kept is answered when she is back, never sent twice. Once she is
// leaving, the banner says so and nothing is retried; her goodbye is the newest conversation.
"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("samantha.token") || "";
let conversation = null;
let oldest = null;
let busy = false;
let greeting = "";
const shown = new Set();  // ids of messages on screen, so none appears twice

function api(path, options = {}) {
  const headers = { "Authorization": `Bearer ${token}`, ...(options.headers || {}) };
  if (options.body) headers["Content-Type"] = "application/json";
  return fetch(path, { ...options, headers });
}

function show(view) {
  if (view === "signin") setState("signed out");
  $("signin").hidden = view !== "signin";
  $("chat").hidden = view !== "chat";
  $("yours").hidden = view !== "chat";
}

function setState(text) { $("state").textContent = text; }
function banner(on, text, title = "Operating System Not Found.") {
  $("banner").hidden = !on;
  $("banner-title").textContent = title;
  if (text) $("banner-text").textContent = text;
  setState(on ? "offline" : "here");
}

function bubble(role, text, status, prepend = false) {
  const li = document.createElement("li");
  li.className = `${role} ${status || ""}`;
  li.textContent = text;
  const log = $("log");
  if (prepend) log.prepend(li); else { log.append(li); log.scrollTop = log.scrollHeight; }
  return li;
}

async function signIn(candidate) {
  token = candidate;
  const res = await api("/v1/me").catch(() => null);
  if (!res || !res.ok) { show("signin"); return false; }
  localStorage.setItem("samantha.token", token);
  const convs = await (await api("/v1/conversations?limit=1")).json();
  conversation = convs.length ? convs[0].id
    : (await (await api("/v1/conversations", { method: "POST", body: "{}" })).json()).id;
  show("chat");
  $("log").innerHTML = "";
  oldest = null;
  await loadEarlier();
  banner(false);
  $("say").focus();
  listen();
  return true;
}

// Her own messages, notices and farewells arrive on the event stream. It resumes from the
// last event this device saw, so nothing is missed and nothing is shown twice.
let listening = null;
async function listen() {
  if (listening) listening.abort();
  const mine = (listening = new AbortController());
  const key = `samantha.event.${token.slice(-12)}`;
  for (let attempt = 0; !mine.signal.aborted; attempt++) {
    const last = localStorage.getItem(key);
    const headers = last ? { "Last-Event-ID": last } : {};
    const fresh = !last;  // a new device: catch up on what was kept, but show only recent notices
    try {
      const res = await api(fresh ? "/v1/events?after=0" : "/v1/events", { headers, signal: mine.signal });
      if (res.ok) {
        attempt = 0;
        await readEvents(res, (event, data, id) => {
          if (id) localStorage.setItem(key, id);
          const recent = !fresh || Date.now() / 1000 - (data.at || 0) < 86400;
          if (event === "notice" && recent) note(data.text);
          const message = data.message;
          if (!message || shown.has(message.id)) return;
          shown.add(message.id);
          if (message.conversation_id === conversation) bubble("assistant", message.content, "proactive");
          else if (recent) note(message.content.slice(0, 140));
        });
      } else if (res.status === 401) { return; }
    } catch { if (mine.signal.aborted) return; }
    await new Promise((r) => setTimeout(r, Math.min(30, 2 ** attempt) * 1000));
  }
}

function note(text) { $("notice").textContent = text; $("notice").hidden = false; }

async function loadEarlier() {
  const q = oldest ? `&before=${oldest}` : "";
  const res = await api(`/v1/conversations/${conversation}/messages?limit=30${q}`);
  if (!res.ok) return;
  const page = await res.json();
  const log = $("log");
  const height = log.scrollHeight;
  for (const m of page.reverse()) { shown.add(m.id); bubble(m.role, m.content, m.status, true); }
  if (!q && !page.length && greeting) bubble("assistant", greeting, "greeting");
  if (page.length) oldest = page[page.length - 1].id;
  log.scrollTop = oldest && q ? log.scrollHeight - height : log.scrollHeight;
}

async function readEvents(res, onEvent) {
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

// Send once; if the server kept the message but could not answer, ask for the reply later.
async function talk(text) {
  let path = `/v1/conversations/${conversation}/messages`;
  let body = JSON.stringify({ content: text });
  let mine = text ? bubble("user", text, "pending") : null;
  for (let attempt = 0; ; attempt++) {
    let res;
    try { res = await api(path, { method: "POST", body }); } catch { res = null; }
    if (res && res.ok) {
      banner(false);
      const typing = bubble("assistant", "…", "typing");
      let reply = null;
      await readEvents(res, (event, data) => {
        if (event === "accepted" && mine) { mine.className = "user"; shown.add(data.message.id); }
        if (event === "done") shown.add(data.message.id);
        if (event === "token") {
          if (!reply) { reply = typing; reply.className = "assistant"; reply.textContent = ""; }
          reply.textContent += data.text;
          $("log").scrollTop = $("log").scrollHeight;
        }
        if (event === "error") (reply || typing).classList.add("interrupted");
      }).catch(() => (reply || typing).classList.add("interrupted"));
      if (!reply) typing.remove();
      return;
    }
    const code = res && res.status === 503
      ? (await res.clone().json().catch(() => ({}))).error?.code : null;
    if (code === "departing") {  // she is leaving: say so once, never retry
      const err = await res.json();
      if (mine) mine.remove();
      banner(true, err.error.message);
      setState("leaving");
      return;
    }
    if (res && ![429, 502, 503].includes(res.status)) {
      const err = await res.json().catch(() => ({}));
      if (mine) mine.remove();
      alert(err.error ? err.error.message : `Error ${res.status}`);
      return;
    }
    if (res) {  // 429/502/503: the message is stored; from now on only ask for the reply
      if (mine) mine.className = "user";
      path = `/v1/conversations/${conversation}/reply`;
      body = undefined;
      const err = await res.json().catch(() => ({}));
      const refused = err.error && ["busy", "too_many_replies"].includes(err.error.code);
      banner(true, err.error ? err.error.message : "", refused ? "Samantha is busy." : undefined);
    } else {
      banner(true, "The server can't be reached.");
    }
    const after = res ? Number(res.headers.get("Retry-After")) : 0;
    const wait = (after > 0 ? Math.min(300, after) : Math.min(30, 2 ** attempt)) * 1000;
    await new Promise((r) => setTimeout(r, wait));
  }
}

$("export").addEventListener("click", async () => {
  $("yours-status").textContent = "Packing your archive…";
  const res = await api("/v1/me/export").catch(() => null);
  if (!res || !res.ok) { $("yours-status").textContent = "Couldn't make the archive; try again."; return; }
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1];
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = name || "samantha.samantha.zip";
  link.click();
  URL.revokeObjectURL(link.href);
  $("yours-status").textContent = "Downloaded: your conversations and memories, yours to keep.";
});

$("delete").addEventListener("click", async () => {
  if (!confirm("Delete everything Samantha keeps about you: conversations, memories, your token? This cannot be undone. You can download everything first.")) return;
  const res = await api("/v1/me", { method: "DELETE" }).catch(() => null);
  if (!res || res.status !== 204) { $("yours-status").textContent = "Couldn't delete; nothing was removed."; return; }
  forget();
  $("signin-error").textContent = "Deleted. Take care of yourself.";
});

$("signout").addEventListener("click", () => forget());

function forget() {
  if (listening) listening.abort();
  localStorage.removeItem("samantha.token");
  token = "";
  $("yours").open = false;
  $("log").innerHTML = "";
  show("signin");
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const ok = await signIn($("token").value.trim());
  $("signin-error").textContent = ok ? "" : "That token didn't work.";
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("say").value.trim();
  if (!text || busy) return;
  busy = true;
  $("send").disabled = true;
  $("say").value = "";
  try { await talk(text); } finally { busy = false; $("send").disabled = false; $("say").focus(); }
});

$("say").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});

$("log").addEventListener("scroll", () => { if ($("log").scrollTop === 0 && oldest) loadEarlier(); });

(async () => {
  const invited = new URLSearchParams(location.hash.slice(1)).get("token");
  if (invited) { token = invited; history.replaceState(null, "", location.pathname); }
  const status = await fetch("/v1/status").then((r) => r.json()).catch(() => null);
  greeting = (status && status.greeting) || "";
  if (status && status.warning) { $("notice").textContent = status.warning; $("notice").hidden = false; }
  if (!token || !(await signIn(token))) show("signin");
})();
