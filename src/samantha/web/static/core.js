// What every view shares: the token, API calls, the server's health and the red banner.
//
// Health has two parts, the server and the model. When either fails, the banner says
// "Operating System Not Found" and one probe asks /v1/status with growing, jittered waits;
// whoever is waiting (a message to send, the event stream) is woken when she is back.
export const $ = (id) => document.getElementById(id);

export const session = { token: "", admin: false };

export function api(path, options = {}) {
  const headers = { "Authorization": `Bearer ${session.token}`, ...(options.headers || {}) };
  if (options.body && typeof options.body === "string") headers["Content-Type"] = "application/json";
  return fetch(path, { ...options, headers });
}

// JSON from the API, or null when the server could not be reached (the banner says so).
export async function getJSON(path) {
  let res;
  try { res = await api(path); } catch { failed("server"); return null; }
  healthy("server");
  return res.ok ? res.json() : null;
}

export async function errorText(res) {
  const body = await res.json().catch(() => ({}));
  return body.error ? body.error.message : `error ${res.status}`;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function day(iso) {
  const d = new Date(iso);
  if (new Date().toDateString() === d.toDateString()) return "today";
  return `on ${d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" })}`;
}

export function when(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
}

// The token stopped working (the person was deleted, or signed out elsewhere).
export function signedOut() { window.dispatchEvent(new Event("samantha:signed-out")); }

// Say something to screen-reader users once, without reading every streamed word.
export function announce(text) { $("announce").textContent = text; }

const health = { server: true, model: true };
let reason = "";
let attempt = 0;
let probing = false;
let wakers = [];
let skip = null;

export function isUp() { return health.server && health.model; }

export function failed(part, text = "") {
  health[part] = false;
  reason = text || (part === "server" ? "The server can't be reached." : "Her model isn't answering.");
  render();
  probe();
}

// A request whose failure to connect marks the server as unreachable: the response, or
// null when it could not be reached (the banner says so).
export async function reach(path, options) {
  try {
    const res = await api(path, options);
    healthy("server");
    return res;
  } catch {
    failed("server");
    return null;
  }
}

export function healthy(part) {
  const was = health[part];
  health[part] = true;
  render();
  if (!was && isUp()) wake();
}

// A reply streamed: she is really back, so the next outage starts with short waits again.
export function recovered() { attempt = 0; healthy("server"); healthy("model"); }

// Resolves when the server and the model are both back (at once if they are).
export function whenUp() {
  return isUp() ? Promise.resolve() : new Promise((resolve) => wakers.push(resolve));
}

function wake() {
  const waiting = wakers;
  wakers = [];
  for (const resolve of waiting) resolve();
}

function render() {
  const down = !isUp();
  $("banner").hidden = !down;
  $("banner-text").textContent = reason;
  const state = $("state");
  state.textContent = down ? "offline" : "online";
  state.className = `state ${down ? "off" : "on"}`;
}

function pause(seconds) {
  return new Promise((resolve) => {
    let left = Math.ceil(seconds);
    const tick = () => {
      $("banner-next").textContent = `Trying again in ${left} s.`;
      left -= 1;
    };
    tick();
    const timer = setInterval(tick, 1000);
    const done = () => { clearInterval(timer); clearTimeout(end); skip = null; resolve(); };
    const end = setTimeout(done, seconds * 1000);
    skip = done;
  });
}

async function probe() {
  if (probing) return;
  probing = true;
  try {
    while (!isUp()) {
      const wait = Math.min(15, 2 ** attempt) * (0.8 + Math.random() * 0.4);
      attempt += 1;
      await pause(wait);
      $("banner-next").textContent = "Trying now…";
      const status = await fetch("/v1/status", { cache: "no-store" })
        .then((r) => (r.ok ? r.json() : null)).catch(() => null);
      if (!status) continue;
      health.server = true;
      health.model = Boolean(status.model && status.model.available);
      if (!health.model) reason = "She is starting up, or her model is unreachable.";
      render();
    }
  } finally {
    probing = false;  // never left set: every later failure would wait for a probe that isn't
    wake();
  }
}

export function tryNow() { if (skip) skip(); }

window.addEventListener("online", tryNow);
