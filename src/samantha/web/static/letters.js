// Letters you write with her: say to whom and what you want to say, she drafts it in your
// voice from what you've told her; change any word, ask for another draft, download it as
// handwritten pages, or all of them as a book. The same API as `samantha letter`:
// /v1/me/letters. Every word is shown with textContent, never as HTML.
import { $, el, day, errorText, reach, api, announce } from "./core.js";

const LETTERS = "/v1/me/letters";

function status(text) { $("letters-status").textContent = text; announce(text); }

async function call(path, options) {
  const res = await reach(path, options);
  if (!res) status("Couldn't reach her; nothing was changed. Try again when she's back.");
  return res;
}

export async function openLetters() {
  status("Looking…");
  const res = await call(`${LETTERS}?limit=500`);
  if (!res) return;
  if (!res.ok) { status(await errorText(res)); return; }
  const found = await res.json();
  $("letters-list").replaceChildren(...found.map(letterItem));
  shown();
}

function shown() {
  const n = $("letters-list").querySelectorAll(".letter").length;
  $("letters-book").hidden = n === 0;
  status(n ? `${n} ${n === 1 ? "letter" : "letters"}, newest first.`
    : "No letters yet. Who would you like to write to?");
}

async function write(e) {
  e.preventDefault();
  const button = $("letter-write");
  const body = JSON.stringify({ to: $("letter-to").value.trim(), notes: $("letter-notes").value });
  button.disabled = true;
  status("She's writing it with you…");
  const res = await call(LETTERS, { method: "POST", body });
  button.disabled = false;
  if (!res) return;
  if (res.status !== 201) { status(`Not written: ${await errorText(res)}`); return; }
  const item = letterItem(await res.json());
  $("letters-list").prepend(item);
  $("letter-form").reset();
  shown();
  status("Written and kept. Change anything you like.");
  item.querySelector("h3").focus();
}

function letterItem(x) {
  const id = `letter-${x.id}`;
  const heading = el("h3", { id: `${id}-to`, tabindex: "-1", text: `To ${x.to}` });
  const words = el("div", { class: "letter-text", id: `${id}-text`, text: x.text });
  const meta = el("p", { class: "meta", text: `written ${day(x.created_at)}` + (x.updated_at !== x.created_at ? `, changed ${day(x.updated_at)}` : "") });
  const labelled = `${id}-to`;
  const button = (text, extra = "") => el("button", { type: "button", class: `quiet small ${extra}`, "aria-describedby": labelled, text });
  const edit = button("Edit"), again = button("Another draft"), pdf = button("Download PDF"), drop = button("Delete", "warn");
  const li = el("li", { class: "letter card", "data-id": x.id }, heading, meta, words,
    el("div", { class: "actions" }, edit, again, pdf, drop));
  edit.addEventListener("click", () => editing(li, x, edit));
  again.addEventListener("click", () => redrafting(li, x, again));
  pdf.addEventListener("click", () => download(`${LETTERS}/${x.id}?format=pdf`, `letter-to-${x.to}.pdf`));
  drop.addEventListener("click", () => deleting(li, x, drop));
  return li;
}

function replace(li, x) {
  const fresh = letterItem(x);
  li.replaceWith(fresh);
  fresh.querySelector("h3").focus();
}

function form(li, field, label, value, submit, rows, limit) {
  if (li.querySelector("form.fix")) { li.querySelector("form.fix textarea").focus(); return; }
  const id = `letter-${li.dataset.id}-new-${field}`;
  const text = el("textarea", { id, rows, maxlength: limit, required: true });
  text.value = value;
  const cancel = el("button", { type: "button", class: "quiet small", text: "Cancel" });
  const box = el("form", { class: "fix" }, el("label", { for: id, text: label }), text,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "small", text: field === "note" ? "Redraft" : "Save" }), cancel));
  const close = () => { box.remove(); li.querySelector("h3").focus(); };
  cancel.addEventListener("click", close);
  box.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  box.addEventListener("submit", (e) => { e.preventDefault(); submit(text.value, box); });
  li.append(box);
  text.focus();
}

function editing(li, x) {
  form(li, "text", "Your letter, in your words", x.text, async (text, box) => {
    const res = await call(`${LETTERS}/${x.id}`, { method: "PATCH", body: JSON.stringify({ text }) });
    if (!res) return;
    if (!res.ok) { status(`Not saved: ${await errorText(res)}`); return; }
    box.remove();
    replace(li, await res.json());
    status("Saved, as you wrote it.");
  }, "12", "20000");
}

function redrafting(li, x) {
  form(li, "note", "What should she change?", "", async (note, box) => {
    const submit = box.querySelector("button[type=submit]");
    submit.disabled = true;
    status("She's drafting it again…");
    const res = await call(`${LETTERS}/${x.id}/redraft`, { method: "POST", body: JSON.stringify({ note }) });
    submit.disabled = false;
    if (!res) return;
    if (!res.ok) { status(`Not redrafted: ${await errorText(res)}`); return; }
    box.remove();
    replace(li, await res.json());
    status("Here is another draft; your greeting and closing stay.");
  }, "2", "4000");
}

function deleting(li, x, button) {
  if (li.querySelector(".confirm")) return;
  const yes = el("button", { type: "button", class: "danger small", text: "Delete it" });
  const no = el("button", { type: "button", class: "quiet small", text: "Keep it" });
  const ask = el("div", { class: "confirm", role: "group", "aria-label": "Delete this letter?" },
    el("p", { text: "Delete this letter? Every copy of its words goes; it can't be undone." }),
    el("div", { class: "actions" }, yes, no));
  const close = () => { ask.remove(); button.focus(); };
  no.addEventListener("click", close);
  ask.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  yes.addEventListener("click", async () => {
    const res = await call(`${LETTERS}/${x.id}`, { method: "DELETE" });
    if (!res) return;
    if (res.status !== 204) { status(`Not deleted: ${await errorText(res)}`); return; }
    li.remove();
    shown();
    status("Deleted.");
    $("letter-to").focus();
  });
  li.append(ask);
  no.focus();
}

async function download(path, fallback) {
  status("Preparing the pages…");
  const res = await api(path).catch(() => null);
  if (!res || !res.ok) { status("Couldn't make the PDF; try again."); return; }
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1];
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = name || fallback;
  link.click();
  URL.revokeObjectURL(link.href);
  status("Downloaded, in handwriting.");
}

export function wireLetters() {
  $("letter-form").addEventListener("submit", write);
  $("letters-book").addEventListener("click", () => download(`${LETTERS}/book.pdf`, "letters.pdf"));
}
