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

function api(path, options = {}) {
  const headers = { "Authorization": `Bearer ${token}`, ...(options.headers || {}) };
  if (options.body) headers["Content-Type"] = "application/json";
  return fetch(path, { ...options, headers });
}

function show(view) {
  if (view === "signin") setState("signed out");
  $("signin").hidden = view !== "signin";
  $("chat").hidden = view !== "chat";
}

function setState(text) { $("state").textContent = text; }
function banner(on, text) {
  $("banner").hidden = !on;
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
  return true;
}

async function loadEarlier() {
  const q = oldest ? `&before=${oldest}` : "";
  const res = await api(`/v1/conversations/${conversation}/messages?limit=30${q}`);
  if (!res.ok) return;
  const page = await res.json();
  const log = $("log");
  const height = log.scrollHeight;
  for (const m of page.reverse()) bubble(m.role, m.content, m.status, true);
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
      if (event && data) onEvent(event, JSON.parse(data));
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
        if (event === "accepted" && mine) mine.className = "user";
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
    if (res && res.status !== 503 && res.status !== 502) {
      const err = await res.json().catch(() => ({}));
      if (mine) mine.remove();
      alert(err.error ? err.error.message : `Error ${res.status}`);
      return;
    }
    if (res) {  // 503/502: the message is stored; from now on only ask for the reply
      if (mine) mine.className = "user";
      path = `/v1/conversations/${conversation}/reply`;
      body = undefined;
      const err = await res.json().catch(() => ({}));
      banner(true, err.error ? err.error.message : "");
    } else {
      banner(true, "The server can't be reached.");
    }
    const wait = Math.min(30, 2 ** attempt) * 1000;
    await new Promise((r) => setTimeout(r, wait));
  }
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
