// kakekomi web chat: improves the plain forms (no reload, focus, quick exit by Shift×3).
// Without this file every form still works. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var KEY = "kakekomi.token";
  var meta = document.querySelector('meta[name="kakekomi-exit"]');
  var exitUrl = meta ? meta.content : "https://weather.yahoo.co.jp/weather/";
  var pathMeta = document.querySelector('meta[name="kakekomi-path"]');
  var base = pathMeta ? pathMeta.content : "/";

  function storedToken() {
    try { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function kept() {
    try { return localStorage.getItem(KEY) !== null; } catch (e) { return false; }
  }
  function saveToken(token) {
    try {
      sessionStorage.setItem(KEY, token);
      if (kept()) { localStorage.setItem(KEY, token); }
    } catch (e) { /* storage off: the hidden fields still carry the token */ }
  }
  function forgetToken() {
    try { sessionStorage.clear(); localStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
  }

  // ---- quick exit ---------------------------------------------------------------------
  function quickExit(event) {
    if (event) { event.preventDefault(); }
    document.body.replaceChildren();
    document.title = "";
    forgetToken();
    location.replace(exitUrl);
  }
  var exitLink = document.getElementById("exit");
  if (exitLink) { exitLink.addEventListener("click", quickExit); }
  var shifts = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift" || event.repeat) { if (event.key !== "Shift") { shifts = []; } return; }
    var now = Date.now();
    shifts = shifts.filter(function (t) { return now - t < 1500; });
    shifts.push(now);
    if (shifts.length >= 3) { quickExit(); }
  });
  window.addEventListener("pagehide", function () {
    var log = document.getElementById("log");
    if (log && !kept()) { log.replaceChildren(); }
  });

  var log = document.getElementById("log");
  if (!log) { return; }  // the note on quick exit: only the exit works here
  var choices = document.getElementById("choices");
  var sayForm = document.getElementById("say-form");
  var say = document.getElementById("say");
  var keep = document.getElementById("keep");
  var keepRow = document.getElementById("keep-row");

  function fields() { return document.querySelectorAll('input[name="token"]'); }
  function currentToken() { var f = fields(); return f.length ? f[0].value : ""; }
  function currentLang() { return document.documentElement.lang || "ja"; }
  function setToken(token) {
    fields().forEach(function (f) { f.value = token; });
    saveToken(token);
  }
  function setLang(lang) {
    document.documentElement.lang = lang;
    document.querySelectorAll('input[name="lang"]').forEach(function (f) { f.value = lang; });
  }

  function addMessage(cls, text) {
    var div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;  // never innerHTML: text stays text
    log.appendChild(div);
    return div;
  }
  function hiddenFields() {
    var frag = document.createDocumentFragment();
    [["token", currentToken()], ["lang", currentLang()]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
      frag.appendChild(input);
    });
    return frag;
  }
  function showButtons(rows) {
    choices.replaceChildren(hiddenFields());
    rows.forEach(function (row) {
      var div = document.createElement("div");
      div.className = "row";
      row.forEach(function (b) {
        var button = document.createElement("button");
        button.className = "choice"; button.name = "button"; button.value = b.data;
        button.textContent = b.label;
        div.appendChild(button);
      });
      choices.appendChild(div);
    });
  }
  function showMemo(label) {
    var old = document.getElementById("memo-form");
    if (old) { old.remove(); }
    var form = document.createElement("form");
    form.id = "memo-form"; form.method = "post"; form.action = base + "memo";
    form.appendChild(hiddenFields());
    var button = document.createElement("button");
    button.id = "memo-download"; button.textContent = label;
    form.appendChild(button);
    sayForm.parentNode.insertBefore(form, sayForm);
  }

  var busy = false;
  function turn(payload, mine, focusAfter) {
    if (busy) { return; }
    busy = true;
    payload.token = currentToken();
    payload.lang = currentLang();
    var memoLabel = (document.getElementById("memo-download") || {}).textContent;
    fetch(base + "api/turn", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      var data = result.data;
      if (result.status === 200 && data.exited) { quickExit(); return; }
      if (result.status !== 200) {
        addMessage("bot notice", data.message || "");
        return;
      }
      var me = mine || data.pressed;
      if (me) { addMessage("me", me); }
      var rows = null, hasMemo = false;
      data.messages.forEach(function (m) {
        if (m.text) { addMessage("bot", m.text); }
        if (m.buttons && m.buttons.length) { rows = m.buttons; }
        if (m.document) { hasMemo = true; }
      });
      setLang(data.lang);
      setToken(data.token);
      if (data.erased) { forgetToken(); saveToken(data.token); if (keep) { keep.checked = false; } }
      showButtons(rows || []);
      if (hasMemo) { showMemo(memoLabel || (data.lang === "en" ? "Download the memo" : "相談メモをダウンロード")); }
      var first = choices.querySelector("button");
      if (focusAfter === "say") { say.focus(); }
      else if (first) { first.focus(); }
      else { say.focus(); }
    }).catch(function () {
      addMessage("bot notice", currentLang() === "en" ? "Could not send. Please try again." : "送れませんでした。もう一度ためしてください。");
    }).then(function () { busy = false; });
  }

  choices.addEventListener("click", function (event) {
    var button = event.target.closest("button.choice");
    if (!button) { return; }
    event.preventDefault();
    turn({ button: button.value }, null, "choices");
  });
  sayForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = say.value;
    if (!text.trim()) { say.focus(); return; }
    say.value = "";
    turn({ text: text }, text, "say");
  });
  say.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { sayForm.requestSubmit(); }
  });
  var forgetForm = document.getElementById("forget-form");
  if (forgetForm) {
    forgetForm.addEventListener("submit", function (event) {
      event.preventDefault();
      turn({ command: "forget" }, null, "choices");
    });
  }

  // ---- keep this conversation on this device (opt-in) --------------------------------
  if (keepRow && keep) {
    keepRow.hidden = false;
    keep.checked = kept();
    keep.addEventListener("change", function () {
      try {
        if (keep.checked) { localStorage.setItem(KEY, currentToken()); }
        else { localStorage.removeItem(KEY); }
      } catch (e) { keep.checked = false; }
    });
  }

  // ---- carry on a conversation this tab (or device) already has ---------------------
  var earlier = storedToken();
  if (earlier && earlier !== currentToken()) {
    log.replaceChildren();
    setToken(earlier);
    turn({ command: "resume" }, null, "choices");
  } else {
    saveToken(currentToken());
  }
})();
