// Upload a trajectory file: the raw JSONL goes to /ui/trajectories/upload, then we open it.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form) return;
  var ui = document.body.dataset.ui;
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = document.getElementById("upload-file").files[0];
    if (!file) { status.textContent = "Choose a file first."; return; }
    status.textContent = "Uploading…";
    fetch(ui + "/trajectories/upload?filename=" + encodeURIComponent(file.name), {
      method: "POST", headers: { "Content-Type": "application/x-ndjson" }, body: file
    }).then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = "Rejected: " + res.body.error.message; return; }
        window.location.href = res.body.url;
      })
      .catch(function (err) { status.textContent = "Upload failed: " + err; });
  });
})();
