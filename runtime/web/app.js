// The page of `asl serve`: camera frames go to the server over a WebSocket; the answers bring the sign,
// its probability and the typed text. The server crops the region of interest and spells, as `asl live`
// does; the page only draws the box and sends downscaled frames.
"use strict";

const MAX_FPS = 15;    // frames sent per second, at most
const IN_FLIGHT = 2;   // frames sent and not answered yet: one being read, one waiting
const QUALITY = 0.85;  // JPEG quality of the frames sent

const $ = (id) => document.getElementById(id);
const video = $("camera");
const overlay = $("overlay");
const frame = document.createElement("canvas");  // the downscaled copy of the camera picture that is sent

let info = null;       // /api/info: input size, region of interest, provider
let ready = "";        // the status line while all is well
let socket = null;
let unanswered = 0;
let lastSent = 0;
let lastAnswer = 0;
let fps = 0;
let sentScale = 1;     // sent frame pixels per video pixel

function setStatus(message, isError = false) {
  $("status").textContent = message;
  $("status").classList.toggle("error", isError);
}

// The region of interest in pixels (x, y, width, height), as asl.runtime.image.roi_box computes it.
function roiBox(width, height) {
  if (!info.roi) {
    const side = Math.min(width, height);
    return [Math.floor((width - side) / 2), Math.floor((height - side) / 2), side, side];
  }
  const [x, y, w, h] = info.roi;
  return [Math.round(x * width), Math.round(y * height), Math.max(1, Math.round(w * width)), Math.max(1, Math.round(h * height))];
}

// The box read (the tracked hand's crop, or the fixed region of interest), the hand's skeleton, and the
// amber bar that fills while the speller's candidate is held until it is typed, with the candidate above it.
// Positions in an answer are in the pixels of the frame sent: `sentScale` maps them back to the video.
function drawOverlay(progress, candidate = null, answer = null) {
  const { videoWidth: width, videoHeight: height } = video;
  if (overlay.width !== width || overlay.height !== height) {
    overlay.width = width;
    overlay.height = height;
  }
  const context = overlay.getContext("2d");
  const line = Math.max(2, width / 320);
  context.clearRect(0, 0, width, height);
  let box = null;
  if (info.hand === "track") {
    const region = answer?.region;
    if (region) {
      const [x0, y0, x1, y1] = region.map((v) => v / sentScale);
      box = [x0, y0, x1 - x0, y1 - y0];
    }
    const points = answer?.hand?.landmarks?.map(([x, y]) => [x / sentScale, y / sentScale]);
    if (points) {
      context.lineWidth = line;
      context.strokeStyle = "#ffffff";
      for (const [a, b] of info.connections) {
        context.beginPath();
        context.moveTo(...points[a]);
        context.lineTo(...points[b]);
        context.stroke();
      }
      context.fillStyle = "#50dc50";
      for (const [x, y] of points) {
        context.beginPath();
        context.arc(x, y, 1.5 * line, 0, 2 * Math.PI);
        context.fill();
      }
    }
  } else {
    box = roiBox(width, height);
  }
  if (!box) {
    return;
  }
  const [x, y, w, h] = box;
  context.lineWidth = line;
  context.strokeStyle = "#50dc50";
  context.strokeRect(x + line / 2, y + line / 2, w - line, h - line);
  context.fillStyle = "#ffbf00";
  context.fillRect(x, y + h - 4 * line, w * progress, 4 * line);
  if (candidate) {
    context.font = `bold ${Math.round(12 * line)}px sans-serif`;
    context.fillText(candidate, x + 4 * line, y + h - 7 * line);
  }
}

function sendFrame(now, target) {
  lastSent = now;
  unanswered += 1;
  // A tracked hand can be small anywhere in the picture: send it whole, at most 640 wide. A fixed box
  // only needs its region at about twice the model's input.
  const [, , w, h] = roiBox(video.videoWidth, video.videoHeight);
  const scale = info.hand === "track" ? Math.min(1, 640 / video.videoWidth) : Math.min(1, (2 * info.input_size) / Math.min(w, h));
  sentScale = scale;
  frame.width = Math.round(video.videoWidth * scale);
  frame.height = Math.round(video.videoHeight * scale);
  frame.getContext("2d").drawImage(video, 0, 0, frame.width, frame.height);
  frame.toBlob((blob) => {
    if (blob && target.readyState === WebSocket.OPEN) {
      target.send(blob);
    } else {
      unanswered -= 1;
    }
  }, "image/jpeg", QUALITY);
}

function tick(now) {
  requestAnimationFrame(tick);
  if (socket?.readyState === WebSocket.OPEN && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA
      && unanswered < IN_FLIGHT && now - lastSent >= 1000 / MAX_FPS) {
    sendFrame(now, socket);
  }
}

// What the server says while the page is taught a sign ("teach A"), and which signs it has been taught.
function showTeaching(answer) {
  if (answer.teaching) {
    const { letter, kept, of, taking } = answer.teaching;
    $("teaching").textContent = taking ? `Hold ${letter}: ${kept} of ${of} pictures taken…` : `Form ${letter} with your hand in view…`;
  } else if ("taught" in answer) {
    $("teaching").textContent = answer.taught.length ? `Your own signs: ${answer.taught.join(", ")}.` : "";
    $("save").hidden = !answer.taught.length;
  }
}

// The page's profile, from the server's answer to "profile": saved as a file for `asl live --profile`.
function saveProfile(encoded) {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  link.download = "my-signs.npz";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function showAnswer(event) {
  const answer = JSON.parse(event.data);
  if ("teaching" in answer) {
    showTeaching(answer);
  }
  if ("profile" in answer) {
    saveProfile(answer.profile);
  }
  if ("label" in answer || "error" in answer) {
    unanswered = Math.max(0, unanswered - 1);
  }
  if ("error" in answer) {
    setStatus(answer.error, true);
    return;
  }
  if ("label" in answer) {
    const now = performance.now();
    if (lastAnswer) {
      const rate = 1000 / Math.max(now - lastAnswer, 1);
      fps = fps ? 0.9 * fps + 0.1 * rate : rate;
      $("fps").textContent = fps.toFixed(1);
    }
    lastAnswer = now;
    $("letter").textContent = answer.label;
    $("letter").classList.toggle("word", answer.label.length > 1);
    $("probability").textContent = `${Math.round(answer.probability * 100)}%`;
    if ("adapted" in answer) {
      $("adapted").textContent = `${answer.adapted} sign${answer.adapted === 1 ? "" : "s"}`;
    }
    setStatus(ready);
  }
  if ("text" in answer) {
    $("text").textContent = answer.text;
    drawOverlay(answer.progress, answer.candidate, "label" in answer ? answer : null);
  }
}

function connect() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const target = new WebSocket(url);
  target.onopen = () => {
    unanswered = 0;
    setStatus(ready);
  };
  target.onmessage = showAnswer;
  target.onclose = () => {
    setStatus("Lost the server: reconnecting…", true);
    setTimeout(connect, 1000);
  };
  socket = target;
}

async function copyText(button) {
  try {
    await navigator.clipboard.writeText($("text").textContent);
    button.textContent = "Copied";
  } catch {
    getSelection().selectAllChildren($("text"));  // no clipboard access: leave it selected for Ctrl+C
    button.textContent = "Selected";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}

async function start() {
  info = await (await fetch("api/info")).json();
  ready = `Reading signs with the ${info.precision} model on ${info.provider}${info.adapt ? ", adapting to you as you sign" : ""}.`;
  document.querySelectorAll(".adapting").forEach((element) => { element.hidden = !info.adapt; });
  if (info.teach) {
    for (const name of info.classes.filter((c) => c !== "nothing")) {
      $("teach-letter").add(new Option(name, name));
    }
    $("teach").hidden = false;
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    setStatus("The browser offers no camera here: open the page on localhost or over https.", true);
    return;
  }
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } } });
  } catch (error) {
    setStatus(`No camera: ${error.message || error.name}`, true);
    return;
  }
  video.addEventListener("loadedmetadata", () => drawOverlay(0));
  connect();
  requestAnimationFrame(tick);
}

$("clear").onclick = () => {
  if (socket?.readyState === WebSocket.OPEN) {
    socket.send("clear");
  }
};
$("copy").onclick = (event) => copyText(event.currentTarget);
$("teach").onsubmit = (event) => {
  event.preventDefault();
  if (socket?.readyState === WebSocket.OPEN) {
    socket.send(`teach ${$("teach-letter").value}`);
  }
};
$("save").onclick = () => {
  if (socket?.readyState === WebSocket.OPEN) {
    socket.send("profile");
  }
};
$("forget").onclick = () => {
  if (socket?.readyState === WebSocket.OPEN) {
    socket.send("forget");
  }
};
start().catch((error) => setStatus(`Cannot start: ${error.message}`, true));
