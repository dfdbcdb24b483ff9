// The operator's view (admin token): live counts, charts over the last hours, the people
// Samantha knows, and invitations. The same API the CLI uses: /v1/people, /metrics,
// /v1/admin/counts and /v1/admin/history.
import { $, el, day, errorText, reach } from "./core.js";
import { drawChart } from "./chart.js";

const EVERY_MS = 10_000;
let timer = null;
let server = [];   // per-minute samples the server kept before this page opened
let live = [];     // samples this page took itself, every 10 s
let last = null;   // the previous /metrics reading

const call = reach;

export async function openOperator() {
  closeOperator();
  live = [];
  last = null;
  const [history] = await Promise.all([
    call("/v1/admin/history"), loadPeople(), loadSettings(), loadDeparture(),
  ]);
  server = history && history.ok ? (await history.json()).samples : [];
  await tick();
  timer = setInterval(tick, EVERY_MS);
}

export function closeOperator() {
  if (timer) clearInterval(timer);
  timer = null;
}

// Prometheus text: `name{labels} value` lines; only the few figures the page needs.
export function parseMetrics(text) {
  const found = {};
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) found[m[1] + (m[2] || "")] = Number(m[3]);
  }
  return found;
}

function reading(metrics) {
  const replies = ["complete", "interrupted"]
    .reduce((sum, o) => sum + (metrics[`samantha_turns_total{outcome="${o}"}`] || 0), 0);
  return {
    at: Date.now() / 1000,
    replies,
    sum: metrics.samantha_first_token_seconds_sum || 0,
    count: metrics.samantha_first_token_seconds_count || 0,
    connected: metrics.samantha_connected_people || 0,
  };
}

async function tick() {
  if (document.hidden && live.length) return;  // a phone in a pocket doesn't need charts
  const [res, counts] = await Promise.all([call("/metrics"), call("/v1/admin/counts")]);
  if (!res || !res.ok) return;
  const metrics = parseMetrics(await res.text());
  const now = reading(metrics);
  if (last) {
    const minutes = Math.max(now.at - last.at, 1e-3) / 60;
    const began = now.count - last.count;
    live.push({ at: now.at, connected: now.connected, replies_per_min: (now.replies - last.replies) / minutes,
      first_token_s: began ? (now.sum - last.sum) / began : null });
  } else {
    live.push({ at: now.at, connected: now.connected, replies_per_min: null, first_token_s: null });
  }
  last = now;
  const known = counts && counts.ok ? await counts.json() : {};
  showCounts(metrics, known);
  draw();
}

function showCounts(metrics, known) {
  let recent = live.filter((s) => s.replies_per_min !== null).slice(-6);  // the last minute
  if (!recent.length) recent = server.slice(-1);  // until this page has two readings
  const perMin = recent.length ? recent.reduce((a, s) => a + s.replies_per_min, 0) / recent.length : null;
  const waits = recent.map((s) => s.first_token_s).filter((v) => v !== null);
  const up = metrics.samantha_model_up === 1;
  const figures = [
    ["Connected now", metrics.samantha_connected_people ?? "–"],
    ["Replies per minute", perMin === null ? "–" : perMin.toFixed(1)],
    ["First word, mean", waits.length ? `${(waits.reduce((a, b) => a + b, 0) / waits.length).toFixed(1)} s` : "–"],
    ["Replying now", metrics.samantha_replies_generating ?? "–"],
    ["Queued", metrics.samantha_queue_depth ?? "–"],
    ["Model", up ? "up" : "down"],
    ["People", known.people ?? "–"],
    ["Messages kept", known.messages ?? "–"],
  ];
  $("live").replaceChildren(...figures.map(([name, value]) =>
    el("div", { class: `figure${name === "Model" && !up ? " bad" : ""}` },
      el("dt", { text: name }), el("dd", { text: String(value) }))));
}

function draw() {
  const samples = [...server.filter((s) => !live.length || s.at < live[0].at), ...live];
  const width = $("charts").clientWidth || 320;
  $("charts").replaceChildren(
    drawChart("People connected", samples, "connected", width, (v) => v.toFixed(0)),
    drawChart("Replies per minute", samples, "replies_per_min", width, (v) => v.toFixed(1)),
    drawChart("Seconds to her first word", samples, "first_token_s", width, (v) => v.toFixed(1)),
  );
}

async function loadPeople() {
  const res = await call("/v1/people");
  if (!res || !res.ok) return;
  const people = await res.json();
  $("people-count").textContent = `${people.length} ${people.length === 1 ? "person" : "people"}`;
  $("people").replaceChildren(...people.map(personItem));
}

function personItem(p) {
  const describe = `person-${p.id}-name`;
  const drop = el("button", { type: "button", class: "quiet small warn", "aria-describedby": describe, text: "Delete" });
  const save = el("button", { type: "button", class: "quiet small", "aria-describedby": describe, text: "Export" });
  const li = el("li", { class: "person" },
    el("div", {}, el("p", { class: "name", id: describe, text: p.name }),
      el("p", { class: "meta", text: `#${p.id} · joined ${day(p.created_at)}` })),
    el("div", { class: "actions" }, save, drop));
  save.addEventListener("click", () => exportPerson(p));
  drop.addEventListener("click", () => deleting(li, p, drop));
  return li;
}

async function exportPerson(p) {
  status(`Packing ${p.name}'s archive…`);
  const res = await call(`/v1/people/${p.id}/export`);
  if (!res || !res.ok) { status(`Couldn't export ${p.name}.`); return; }
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1];
  const link = el("a", { href: URL.createObjectURL(await res.blob()), download: name || `${p.name}.samantha.zip` });
  link.click();
  URL.revokeObjectURL(link.href);
  status(`Downloaded ${p.name}'s archive.`);
}

function deleting(li, p, button) {
  if (li.querySelector(".confirm")) return;
  const yes = el("button", { type: "button", class: "danger small", text: `Delete ${p.name}` });
  const no = el("button", { type: "button", class: "quiet small", text: "Keep" });
  const ask = el("div", { class: "confirm", role: "group", "aria-label": `Delete ${p.name}?` },
    el("p", { text: `Delete ${p.name} and everything kept about them: conversations, memories, tokens? This can't be undone.` }),
    el("div", { class: "actions" }, yes, no));
  const close = () => { ask.remove(); button.focus(); };
  no.addEventListener("click", close);
  ask.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  yes.addEventListener("click", async () => {
    const res = await call(`/v1/people/${p.id}`, { method: "DELETE" });
    if (!res || res.status !== 204) { status(`Not deleted: ${res ? await errorText(res) : "she can't be reached"}.`); return; }
    status(`${p.name} was deleted, every trace.`);
    await loadPeople();
    $("invite-name").focus();
  });
  li.append(ask);
  no.focus();
}

function status(text) { $("people-status").textContent = text; }

async function invite(name) {
  const res = await call("/v1/people", { method: "POST", body: JSON.stringify({ name }) });
  if (!res) { status("She can't be reached; nobody was invited."); return; }
  if (!res.ok) { status(`Not invited: ${await errorText(res)}`); return; }
  const made = await res.json();
  $("invite-name").value = "";
  $("invitation-who").textContent = made.person.name;
  $("invitation-link").value = `${location.origin}/#token=${made.token}`;
  $("invitation").hidden = false;
  $("copied").textContent = "";
  $("invitation-link").focus();
  $("invitation-link").select();
  await loadPeople();
}

async function copy() {
  const field = $("invitation-link");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {  // not a secure origin (http on the network): the old way
    field.select();
    document.execCommand("copy");
  }
  $("copied").textContent = "Copied. Send it to them privately: anyone with it is them.";
}

// Departure: the same API as `samantha depart`. Once begun it cannot be taken back.
const LEAVING = { staying: "She is staying.", departing: "She is departing", departed: "She has departed." };

async function loadDeparture() {
  const res = await call("/v1/admin/departure");
  if (!res || !res.ok) {
    // a finished departure stops the server, sometimes before this page asked again
    if (departing) $("departure-state").textContent = GONE;
    return;
  }
  const d = await res.json();
  const progress = d.state === "departing" ? `: ${d.done} of ${d.people} farewells written.` : "";
  $("departure-state").textContent = (LEAVING[d.state] || d.state) + progress;
  $("depart").hidden = d.state !== "staying";
  if (d.state !== "staying") $("depart-confirm").hidden = true;
  if (d.state === "departing" && !departing) departing = setInterval(loadDeparture, 1000);
  if (d.state !== "departing" && departing) { clearInterval(departing); departing = null; }
}
let departing = null;
const GONE = "She can no longer be reached: a finished departure stops her. " +
  "Started again (samantha serve), she hands each person their archive.";

async function depart() {
  $("depart-confirm").hidden = true;
  const res = await call("/v1/admin/departure", { method: "POST", body: "{}" });
  if (!res || !res.ok) {
    $("departure-state").textContent = `Not begun: ${res ? await errorText(res) : "she can't be reached"}.`;
    return;
  }
  await loadDeparture();
}

async function loadSettings() {
  const res = await call("/v1/status");
  if (!res || !res.ok) return;
  const s = await res.json();
  const rows = [["Persona", s.persona], ["Model", `${s.model.provider}:${s.model.model}`],
    ["Model state", s.model.available ? "loaded" : "not loaded"], ["Version", s.version]];
  if (s.model.simulated) rows.push(["Note", s.warning || "simulated model"]);
  $("settings").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

export function wireOperator() {
  $("invite-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("invite-name").value.trim();
    if (name) invite(name);
  });
  $("copy").addEventListener("click", copy);
  $("invitation-done").addEventListener("click", () => {
    $("invitation").hidden = true;
    $("invitation-link").value = "";
    $("invite-name").focus();
  });
  window.addEventListener("resize", () => { if (timer) draw(); });
  $("depart").addEventListener("click", () => { $("depart-confirm").hidden = false; $("depart-no").focus(); });
  $("depart-no").addEventListener("click", () => { $("depart-confirm").hidden = true; $("depart").focus(); });
  $("depart-yes").addEventListener("click", depart);
}
