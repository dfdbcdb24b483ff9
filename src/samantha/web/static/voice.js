// Talking with her. Hold the button (or Space on it) and speak; let go and she answers
// aloud, sentence by sentence, while the words appear in the conversation. Hands-free, she
// listens all the time and answers when you pause. Speaking while she talks stops her.
//
// The microphone is read at the device's rate and sent to /v1/voice as 16 kHz 16-bit PCM
// (docs/voice.md). The token goes as a WebSocket subprotocol: browsers can't set headers.
import { $, session, announce } from "./core.js";
import { currentConversation, liveBubble, place } from "./chat.js";

const RATE = 16000;
let socket = null;
let mode = "";
let mic = null;        // { stream, context, source, node }
let sending = false;   // while held, or always when hands-free
let output = null;     // the AudioContext her voice plays through
let playing = [];
let playAt = 0;
let rate = 22050;      // of the next audio frame, from its "speaking" event
let live = null;       // her reply's bubble while she speaks it

export function offerVoice(voice) {
  const offered = Boolean(voice && voice.available && navigator.mediaDevices && window.WebSocket);
  $("talk").hidden = !offered;
  $("voice-bar").hidden = !offered;
}

export function stopVoice() {
  quiet();
  sending = false;
  if (socket) socket.close();
  socket = null;
  if (mic) { mic.stream.getTracks().forEach((t) => t.stop()); mic.context.close(); mic = null; }
  state("");
}

function state(name, hint) {
  const button = $("talk");
  button.className = `talk ${name}`;
  button.textContent = { listening: "Listening…", thinking: "Thinking…", speaking: "Speaking…" }[name]
    || ($("hands-free").checked ? "Stop listening" : "Hold to talk");
  if (hint !== undefined) $("talk-hint").textContent = hint;
}

// 16-bit PCM at 16 kHz from the microphone's float samples, averaging each step's samples.
function downsample(input, from) {
  const step = from / RATE;
  const out = new Int16Array(Math.floor(input.length / step));
  for (let i = 0; i < out.length; i++) {
    const start = Math.floor(i * step);
    const end = Math.min(input.length, Math.floor((i + 1) * step));
    let sum = 0;
    for (let j = start; j < end; j++) sum += input[j];
    const v = Math.max(-1, Math.min(1, sum / Math.max(1, end - start)));
    out[i] = v < 0 ? v * 0x8000 : v * 0x7fff;
  }
  return out.buffer;
}

async function microphone() {
  if (mic) return;
  const stream = await navigator.mediaDevices.getUserMedia(
    { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const node = context.createScriptProcessor(4096, 1, 1);
  node.onaudioprocess = (e) => {
    if (sending && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(downsample(e.inputBuffer.getChannelData(0), context.sampleRate));
    }
  };
  source.connect(node);
  node.connect(context.destination);  // it only runs when connected; it outputs silence
  mic = { stream, context, source, node };
}

function connect(wanted) {
  if (socket && mode === wanted && socket.readyState <= WebSocket.OPEN) return socket.ready;
  if (socket) socket.close();
  mode = wanted;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const conversation = currentConversation();
  const query = `mode=${wanted}${conversation ? `&conversation_id=${conversation}` : ""}`;
  const ws = new WebSocket(`${scheme}://${location.host}/v1/voice?${query}`,
    ["samantha.voice", `bearer.${session.token}`]);
  ws.binaryType = "arraybuffer";
  socket = ws;
  ws.ready = new Promise((resolve, reject) => {
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") return play(e.data);
      const event = JSON.parse(e.data);
      if (event.type === "ready") resolve();
      onEvent(event);
    });
    ws.addEventListener("close", () => {
      reject(new Error("closed"));
      if (socket === ws) { socket = null; sending = false; state("", "The voice connection closed; press to talk again."); }
    });
  });
  return ws.ready;
}

function onEvent(event) {
  if (event.type === "listening") { quiet(); state("listening"); }
  if (event.type === "interrupted") quiet();
  if (event.type === "heard") { place(event.message); state("thinking"); }
  if (event.type === "not_heard") state("", event.text);
  if (event.type === "reply") {
    live = live || liveBubble();
    live.querySelector(".text").textContent += event.text;
  }
  if (event.type === "speaking") { rate = event.sample_rate; state("speaking"); }
  if (event.type === "done") {
    if (live) live.remove();
    live = null;
    place(event.message);
    announce(`Samantha said: ${event.message.content}`);
  }
  if (event.type === "error") state("", event.message);
}

function play(data) {
  output = output || new AudioContext();
  const pcm = new Int16Array(data);
  const buffer = output.createBuffer(1, pcm.length, rate);
  const channel = buffer.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 32768;
  const source = output.createBufferSource();
  source.buffer = buffer;
  source.connect(output.destination);
  playAt = Math.max(playAt, output.currentTime);
  source.start(playAt);
  playAt += buffer.duration;
  playing.push(source);
  source.onended = () => {
    playing = playing.filter((s) => s !== source);
    if (!playing.length && !sending) state("");
  };
}

// Stop her voice at once (barge-in); the server stops her reply too.
function quiet() {
  for (const source of playing) { try { source.stop(); } catch { /* already ended */ } }
  playing = [];
  playAt = 0;
  if (live) { live.classList.add("interrupted"); live.classList.remove("live"); live = null; }
}

async function press() {
  if ($("hands-free").checked) return;
  quiet();
  sending = true;
  state("listening", "Listening… let go when you're done.");
  try {
    await Promise.all([microphone(), connect("hold")]);
    socket.send(JSON.stringify({ type: "cancel" }));
  } catch {
    sending = false;
    state("", "The microphone or her voice isn't available here.");
  }
}

function release() {
  if ($("hands-free").checked || !sending) return;
  sending = false;
  state("thinking", "");
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "end" }));
}

async function handsFree() {
  if (!$("hands-free").checked) { sending = false; if (socket) socket.close(); state("", "Hold the button (or Space) and speak."); return; }
  try {
    await Promise.all([microphone(), connect("hands-free")]);
    sending = true;
    state("", "Listening: just talk; she answers when you pause.");
  } catch {
    $("hands-free").checked = false;
    state("", "The microphone or her voice isn't available here.");
  }
}

export function wireVoice() {
  const button = $("talk");
  button.addEventListener("pointerdown", (e) => { e.preventDefault(); button.setPointerCapture(e.pointerId); press(); });
  button.addEventListener("pointerup", release);
  button.addEventListener("pointercancel", release);
  button.addEventListener("keydown", (e) => { if ((e.key === " " || e.key === "Enter") && !e.repeat) { e.preventDefault(); press(); } });
  button.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") { e.preventDefault(); release(); } });
  button.addEventListener("click", () => { if ($("hands-free").checked) { $("hands-free").checked = false; handsFree(); } });
  $("hands-free").addEventListener("change", handsFree);
}
