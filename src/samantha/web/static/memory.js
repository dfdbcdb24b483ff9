// What she remembers about you, in your hands: every memory with the words it came from,
// search as she recalls in conversation, correct what is wrong, forget what should go.
// The same API the CLI's `samantha memory` uses: GET/PATCH/DELETE /v1/memories.
import { $, el, when, day, errorText, reach } from "./core.js";

const PAGE = 100;
const KINDS = { fact: "a fact", event: "something that happened", relation: "someone in your life",
  preference: "something you like or don't", reflection: "her reflection" };
let oldest = null;

function status(text) { $("memory-status").textContent = text; }

async function call(path, options) {
  const res = await reach(path, options);
  if (!res) status("Couldn't reach her; nothing was changed. Try again when she's back.");
  return res;
}

export async function openMemory() {
  $("memory-q").value = "";
  $("memories").replaceChildren();
  $("memory-heading").textContent = "What she remembers about you";
  oldest = null;
  status("Looking…");
  await more();
}

async function more() {
  const before = oldest ? `&before=${oldest}` : "";
  const res = await call(`/v1/memories?limit=${PAGE}${before}`);
  if (!res) return;
  if (!res.ok) { status(await errorText(res)); return; }
  const found = await res.json();
  $("memories").append(...found.map(memoryItem));
  if (found.length) oldest = found[found.length - 1].id;
  $("memory-more").hidden = found.length < PAGE;
  const shown = $("memories").querySelectorAll(".memory").length;
  status(shown ? `${shown} ${shown === 1 ? "memory" : "memories"}, newest first.`
    : "Nothing yet. As you talk, what matters to you will show up here.");
}

async function search(q) {
  status("Searching…");
  const res = await call(`/v1/memories/search?q=${encodeURIComponent(q)}&k=10`);
  if (!res) return;
  if (!res.ok) { status(await errorText(res)); return; }
  const found = await res.json();
  $("memory-heading").textContent = `What she would recall for “${q}”`;
  $("memory-more").hidden = true;
  $("memories").replaceChildren(...found.map(recollection));
  status(found.length ? `${found.length} of your words she would recall, best first.`
    : "Nothing she remembers matches that.");
}

// One thing you said that she would recall, with what she learned from it.
function recollection(hit) {
  const m = hit.message;
  const current = hit.memories.filter((memory) => !memory.superseded_by);  // not what you corrected
  return el("li", { class: "recollection" },
    el("blockquote", {}, el("p", { text: m.content }),
      el("cite", { text: `${m.role === "user" ? "You" : "Samantha"}, ${when(m.created_at)}` })),
    current.length ? el("ul", { class: "learned", "aria-label": "What she learned from it" },
      ...current.map(memoryItem)) : null);
}

function memoryItem(m) {
  const id = `memory-${m.id}`;
  const what = el("p", { class: "what", id: `${id}-text`, tabindex: "-1", text: m.text });
  const meta = [KINDS[m.kind] || m.kind];
  if (m.happened_on) meta.push(`on ${m.happened_on}`);
  meta.push(`${m.origin === "corrected" ? "corrected by you" : "noted"} ${day(m.created_at)}`);
  const describe = `${id}-text`;
  const sources = el("div", { class: "sources", id: `${id}-sources`, hidden: true });
  const show = el("button", { type: "button", class: "quiet small", "aria-expanded": "false",
    "aria-controls": `${id}-sources`, "aria-describedby": describe, text: "Sources" });
  const fix = el("button", { type: "button", class: "quiet small", "aria-describedby": describe, text: "Correct" });
  const drop = el("button", { type: "button", class: "quiet small warn", "aria-describedby": describe, text: "Forget" });
  const li = el("li", { class: "memory", "data-id": m.id }, what,
    el("p", { class: "meta", text: meta.join(" · ") }),
    el("div", { class: "actions" }, show, fix, drop), sources);
  show.addEventListener("click", () => toggleSources(m, show, sources));
  fix.addEventListener("click", () => correcting(li, m, fix));
  drop.addEventListener("click", () => forgetting(li, m, drop));
  return li;
}

async function toggleSources(m, button, box) {
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  box.hidden = !open;
  if (!open || box.childElementCount) return;
  box.append(el("p", { class: "hint", text: "Finding where she learned it…" }));
  const res = await call(`/v1/memories/${m.id}`);
  if (!res || !res.ok) { box.replaceChildren(el("p", { class: "hint", text: "Couldn't load the sources." })); return; }
  const detail = await res.json();
  box.replaceChildren(el("p", { class: "hint", text: detail.sources.length ? "She learned it from:" : "No source messages are kept for this one." }),
    ...detail.sources.map((s) => el("blockquote", {}, el("p", { text: s.content }),
      el("cite", { text: `${s.role === "user" ? "You" : "Samantha"}, ${when(s.created_at)}` }))));
}

function correcting(li, m, button) {
  if (li.querySelector("form.fix")) { li.querySelector("form.fix textarea").focus(); return; }
  const field = `memory-${m.id}-fix`;
  const text = el("textarea", { id: field, rows: "2", maxlength: "2000", required: true });
  text.value = m.text;
  const cancel = el("button", { type: "button", class: "quiet small", text: "Cancel" });
  const form = el("form", { class: "fix" },
    el("label", { for: field, text: "What is true instead" }), text,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "small", text: "Save" }), cancel));
  const close = () => { form.remove(); button.focus(); };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const res = await call(`/v1/memories/${m.id}`, { method: "PATCH", body: JSON.stringify({ text: text.value.trim() }) });
    if (!res) return;
    if (!res.ok) { status(`Not saved: ${await errorText(res)}`); return; }
    const fixed = memoryItem((await res.json()).memory);
    li.replaceWith(fixed);
    fixed.querySelector(".what").focus();
    status("Corrected. She'll remember it this way; the old version is set aside.");
  });
  li.append(form);
  text.focus();
  text.select();
}

function forgetting(li, m, button) {
  if (li.querySelector(".confirm")) return;
  const yes = el("button", { type: "button", class: "danger small", text: "Forget it" });
  const no = el("button", { type: "button", class: "quiet small", text: "Keep it" });
  const ask = el("div", { class: "confirm", role: "group", "aria-label": "Forget this memory?" },
    el("p", { text: "Forget this? She won't recall it, or the words it came from, again." }),
    el("div", { class: "actions" }, yes, no));
  const close = () => { ask.remove(); button.focus(); };
  no.addEventListener("click", close);
  ask.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  yes.addEventListener("click", async () => {
    const res = await call(`/v1/memories/${m.id}`, { method: "DELETE" });
    if (!res) return;
    if (res.status !== 204) { status(`Not forgotten: ${await errorText(res)}`); return; }
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    (next ? next.querySelector(".what") : $("memory-q")).focus();
    status("Forgotten.");
  });
  li.append(ask);
  no.focus();
}

export function wireMemory() {
  $("memory-search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("memory-q").value.trim();
    if (q) search(q); else openMemory();
  });
  $("memory-more").addEventListener("click", more);
}
