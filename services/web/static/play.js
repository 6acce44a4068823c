// A manual episode in the browser, through the service's own JSON API:
//   POST /episodes, GET /tools, POST /episodes/{id}/step, GET /episodes/{id}/changes,
//   POST /episodes/{id}/submit; the grade is rendered by the server (/ui/episodes/{id}/grade).
(function () {
  "use strict";
  var root = document.getElementById("play");
  if (!root) return;
  var ui = document.body.dataset.ui;
  var config = JSON.parse(root.dataset.config);
  var state = { episode: null, tools: {}, done: false };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function showError(message) { var e = $("error"); e.textContent = message; e.hidden = !message; }

  function api(method, path, body) {
    var opts = { method: method, headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!r.ok) {
          var msg = data && data.error ? data.error.code + ": " + data.error.message : "HTTP " + r.status;
          throw new Error(msg);
        }
        return data;
      });
    });
  }

  // --- the form, generated from a tool's JSON schema -------------------------------------
  function typeOf(prop) {
    if (prop.type) return Array.isArray(prop.type) ? prop.type.filter(function (t) { return t !== "null"; })[0] : prop.type;
    var alts = (prop.anyOf || prop.oneOf || []).map(function (a) { return a.type; }).filter(function (t) { return t && t !== "null"; });
    return alts[0] || "string";
  }

  function fieldFor(name, prop, required) {
    var type = typeOf(prop);
    var id = "arg-" + name;
    var input;
    if (prop["enum"]) {
      input = el("select", { id: id, name: name, "data-type": type });
      input.appendChild(el("option", { value: "", text: required ? "— choose —" : "(not set)" }));
      prop["enum"].forEach(function (v) { input.appendChild(el("option", { value: String(v), text: String(v) })); });
    } else if (type === "boolean") {
      input = el("select", { id: id, name: name, "data-type": "boolean" });
      [["", "(not set)"], ["true", "true"], ["false", "false"]].forEach(function (o) { input.appendChild(el("option", { value: o[0], text: o[1] })); });
    } else if (type === "array" || type === "object") {
      var example = type === "array" ? "[ … JSON … ]" : "{ … JSON … }";
      input = el("textarea", { id: id, name: name, rows: "3", "data-type": type, placeholder: example });
    } else if (type === "integer" || type === "number") {
      input = el("input", { id: id, name: name, type: "number", step: type === "integer" ? "1" : "any", "data-type": type });
    } else {
      input = el("input", { id: id, name: name, type: "text", "data-type": "string" });
      if (prop.maxLength && prop.maxLength > 300) {
        input = el("textarea", { id: id, name: name, rows: "3", "data-type": "string" });
      }
    }
    if (prop.description) input.setAttribute("title", prop.description);
    if (prop["default"] !== undefined && input.tagName !== "SELECT") input.setAttribute("placeholder", "default " + JSON.stringify(prop["default"]));
    var label = el("label", { "for": id }, [el("code", { text: name }), required ? el("span", { className: "req", text: " *" }) : "",
      el("span", { className: "muted small", text: " " + type + (prop.description ? " — " + prop.description : "") })]);
    return el("div", { className: "field" }, [label, input]);
  }

  function renderForm() {
    var name = $("tool-select").value;
    var fn = state.tools[name];
    var fields = $("tool-fields");
    fields.innerHTML = "";
    $("tool-description").textContent = fn ? fn.description : "";
    if (!fn) return;
    var params = fn.parameters || {};
    var required = params.required || [];
    Object.keys(params.properties || {}).forEach(function (arg) {
      fields.appendChild(fieldFor(arg, params.properties[arg], required.indexOf(arg) >= 0));
    });
  }

  function readForm() {
    var args = {};
    var problems = [];
    $("tool-fields").querySelectorAll("[data-type]").forEach(function (input) {
      var raw = input.value;
      if (raw === "") return;
      var type = input.dataset.type;
      try {
        if (type === "integer") args[input.name] = parseInt(raw, 10);
        else if (type === "number") args[input.name] = Number(raw);
        else if (type === "boolean") args[input.name] = raw === "true";
        else if (type === "array" || type === "object") args[input.name] = JSON.parse(raw);
        else args[input.name] = raw;
      } catch (err) { problems.push(input.name + ": not JSON (" + err.message + ")"); }
    });
    return { args: args, problems: problems };
  }

  // --- results --------------------------------------------------------------------------
  function addStep(res, name, args) {
    var obs = res.observation;
    var error = obs && obs.error;
    var li = el("li", { className: "step " + (res.ok ? "ok" : "error"), "data-step": String(res.step) }, [
      el("div", { className: "step-head" }, [
        el("span", { className: "n", text: String(res.step) }),
        el("code", { className: "tool", text: name }),
        el("code", { className: "args", text: JSON.stringify(args) }),
        el("span", { className: "status", text: res.ok ? "ok" : (error ? error.code : "error") })
      ]),
      el("details", { open: "" }, [el("summary", { text: "result" }), el("pre", { className: "result", text: JSON.stringify(obs, null, 2) })])
    ]);
    var timeline = $("timeline");
    timeline.querySelectorAll("details[open]").forEach(function (d) { d.removeAttribute("open"); });
    timeline.appendChild(li);
    $("budget").textContent = "step " + res.step + " of " + state.maxSteps + " · status " + res.status;
  }

  function renderChanges() {
    return api("GET", "/episodes/" + state.episode + "/changes").then(function (data) {
      var box = $("changes");
      box.innerHTML = "";
      if (!data.net_changes.length) { box.appendChild(el("p", { className: "muted", text: "No changes." })); return; }
      var tbody = el("tbody");
      data.net_changes.forEach(function (ch) {
        var what;
        if (ch.op === "update") {
          what = el("div", {}, Object.keys(ch.after).map(function (col) {
            return el("div", {}, [el("code", { text: col }), ": ", el("del", { text: JSON.stringify(ch.before[col]) }), " → ", el("ins", { text: JSON.stringify(ch.after[col]) })]);
          }));
        } else {
          what = el("details", {}, [el("summary", { text: ch.op === "insert" ? "new row" : "deleted row" }),
            el("pre", { text: JSON.stringify(ch.op === "insert" ? ch.after : ch.before, null, 2) })]);
        }
        tbody.appendChild(el("tr", { className: "op-" + ch.op }, [el("td", { text: ch.op }), el("td", { text: ch.table }),
          el("td", {}, [el("code", { text: ch.key })]), el("td", {}, [what])]));
      });
      box.appendChild(el("table", { className: "changes" }, [
        el("thead", {}, [el("tr", {}, ["op", "table", "key", "change"].map(function (h) { return el("th", { text: h }); }))]), tbody]));
    });
  }

  function showGrade() {
    return fetch(ui + "/episodes/" + state.episode + "/grade").then(function (r) { return r.text(); }).then(function (html) {
      $("grade-section").innerHTML = html;
    });
  }

  function finished(res) {
    if (!res.done) return Promise.resolve();
    state.done = true;
    $("call-button").disabled = true;
    $("submit-button").disabled = true;
    return showGrade();
  }

  function step(name, args) {
    showError("");
    return api("POST", "/episodes/" + state.episode + "/step", { name: name, arguments: args }).then(function (res) {
      addStep(res, name, args);
      return renderChanges().then(function () { return finished(res); });
    }).catch(function (err) { showError(err.message); });
  }

  // --- wiring ---------------------------------------------------------------------------
  $("tool-select").addEventListener("change", renderForm);
  $("tool-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!state.episode || state.done) return;
    var read = readForm();
    if (read.problems.length) { showError(read.problems.join("; ")); return; }
    step($("tool-select").value, read.args);
  });
  $("submit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!state.episode || state.done) return;
    var text = $("reply").value.trim();
    if (!text) { showError("Write a reply first."); return; }
    showError("");
    api("POST", "/episodes/" + state.episode + "/submit", { response: text }).then(function (res) {
      addStep(res, "submit_response", { response: text });
      return renderChanges().then(function () { return finished(res); });
    }).catch(function (err) { showError(err.message); });
  });
  $("save-button").addEventListener("click", function () {
    if (!state.episode) return;
    api("POST", ui + "/play/" + state.episode + "/save").then(function (res) {
      var status = $("save-status");
      status.innerHTML = "";
      status.appendChild(el("a", { href: res.url, id: "saved-link", text: "saved: " + res.name }));
    }).catch(function (err) { showError(err.message); });
  });

  Promise.all([api("POST", "/episodes", config), api("GET", "/tools")]).then(function (out) {
    var ep = out[0];
    state.episode = ep.episode_id;
    state.maxSteps = ep.max_steps;
    $("episode-id").textContent = ep.episode_id;
    $("instruction").textContent = ep.instruction || "(a bare world: no instruction; call any tool)";
    $("budget").textContent = "up to " + ep.max_steps + " steps";
    var select = $("tool-select");
    out[1].tools.forEach(function (t) {
      if (t.name === "submit_response") return;  // the reply form below does that
      state.tools[t.name] = t.schema["function"];
      select.appendChild(el("option", { value: t.name, text: t.name + (t.read_only ? "" : "  (writes)") }));
    });
    renderForm();
    root.dataset.ready = "1";
  }).catch(function (err) { showError("Could not start an episode: " + err.message); $("instruction").textContent = ""; });
})();
