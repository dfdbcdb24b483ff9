// The two of you: your relationship with her as her records have it (its stage, the moments
// that mattered), what she notices of your wellbeing, word for word as it reaches her, and
// her own inner life. GET /v1/me/relationship, /v1/me/wellbeing, /v1/samantha/inner-life.
import { $, el, day, getJSON } from "./core.js";

export async function openUs() {
  const [us, care, inner] = await Promise.all([
    getJSON("/v1/me/relationship"), getJSON("/v1/me/wellbeing"), getJSON("/v1/samantha/inner-life?limit=1"),
  ]);
  if (us) showUs(us);
  if (care) showCare(care);
  if (inner) showInner(inner[0]);
}

function showUs(us) {
  const s = us.signals;
  $("us-stage").textContent = s.messages
    ? `You are ${us.label}: ${s.days_talked} ${s.days_talked === 1 ? "day" : "days"} talking, ` +
      `${s.memories_kept} ${s.memories_kept === 1 ? "memory" : "memories"} of your life, ` +
      `${s.feelings_shared} times you told her how you felt.`
    : "You have only just met.";
  const stages = us.stages.map((st) => el("li", {
    text: st.label, "aria-current": st.key === us.stage ? "step" : null,
    class: st.key === us.stage ? "here" : "",
  }));
  $("us-stages").replaceChildren(...stages);
  $("us-milestones").replaceChildren(...us.milestones.map((m) =>
    el("li", {}, el("span", { text: m.text }), el("span", { class: "meta", text: ` ${day(m.at)}` }))));
}

function showCare(care) {
  const notes = care.notes.length ? care.notes.map((n) => el("li", { text: n }))
    : [el("li", { text: "Nothing right now." })];
  $("us-care").replaceChildren(...notes);
}

function showInner(life) {
  $("us-inner").textContent = life
    ? [`Lately people bring her ${life.state.interests.join(", ")}.`, ...life.state.thoughts].join(" ")
    : "She has not reflected yet.";
}
