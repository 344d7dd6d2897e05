// Import pages: drop a file anywhere on the upload page, upload it with a real progress bar, then show the
// preview the server sends back; on the preview, an indeterminate bar while the commit is queued; on the commit's
// progress page, rows judged and written, asked every second, then its outcome.
// Without JS the plain form posts do the same, and the progress page reloads itself (meta refresh).
(function () {
  "use strict";

  function setStatus(bar, status, text, value, max) {
    bar.hidden = false;
    if (value === undefined) { bar.removeAttribute("value"); } else { bar.max = max; bar.value = value; }
    status.textContent = text;
  }

  function showPage(html) {
    // The server's answer (the preview, or the upload page with a refusal) replaces this page's content.
    var page = new DOMParser().parseFromString(html, "text/html");
    var main = page.getElementById("content");
    if (!main) { document.open(); document.write(html); document.close(); return; }
    document.title = page.title;
    document.getElementById("content").replaceWith(document.adoptNode(main));
    window.scrollTo(0, 0);
    init();
  }

  function upload(form) {
    var input = form.querySelector("input[type=file]");
    var button = form.querySelector("[type=submit]");
    var bar = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    var max = parseInt(form.dataset.maxBytes, 10);

    form.addEventListener("submit", function (e) {
      if (!input.files.length) { return; }  // the server says "please choose a file"
      e.preventDefault();
      if (max && input.files[0].size > max) {
        bar.hidden = true;
        status.textContent = form.dataset.tooLarge;
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          setStatus(bar, status, form.dataset.uploading + " " + Math.round(100 * ev.loaded / ev.total) + "%",
                    ev.loaded, ev.total);
        }
      };
      xhr.upload.onload = function () { setStatus(bar, status, form.dataset.analysing); };
      xhr.onload = function () {
        var sent = new URL(form.action, window.location.href).pathname;
        if (xhr.responseURL && new URL(xhr.responseURL).pathname !== sent) {
          // redirected (to the login page, after the session timed out): become that page, address and all,
          // so its form posts where it belongs
          window.history.replaceState(null, "", xhr.responseURL);
          document.open(); document.write(xhr.responseText); document.close();
          return;
        }
        showPage(xhr.responseText);
      };
      xhr.onerror = function () {
        bar.hidden = true;
        status.textContent = form.dataset.failed;
        button.disabled = false;
      };
      button.disabled = true;
      setStatus(bar, status, form.dataset.uploading + " 0%", 0, input.files[0].size || 1);
      xhr.send(new FormData(form));
    });
  }

  function importing(form) {
    form.addEventListener("submit", function () {
      form.querySelector("[type=submit]").disabled = true;
      // leaving now would not stop the import, only hide its outcome: 换一个文件 waits until it is done
      form.querySelectorAll("a.button").forEach(function (link) {
        link.setAttribute("aria-disabled", "true");
        link.classList.add("disabled");
        link.addEventListener("click", function (e) { e.preventDefault(); });
      });
      setStatus(document.getElementById("import-progress"), document.getElementById("import-status"),
                form.dataset.importing);
    });
  }

  // A file dropped anywhere on the page goes into the upload form (and never makes the browser open it).
  function uploadForm() { return document.getElementById("upload-form"); }
  document.addEventListener("dragover", function (e) {
    e.preventDefault();
    if (uploadForm()) { uploadForm().classList.add("dragging"); }
  });
  document.addEventListener("dragleave", function (e) {
    if (uploadForm() && !e.relatedTarget) { uploadForm().classList.remove("dragging"); }
  });
  document.addEventListener("drop", function (e) {
    e.preventDefault();
    var form = uploadForm(), files = e.dataTransfer && e.dataTransfer.files;
    if (!form || !files || !files.length) { return; }
    form.classList.remove("dragging");
    form.querySelector("input[type=file]").files = files;
    document.getElementById("upload-status").textContent = files[0].name;
  });

  function follow(card) {
    var bar = document.getElementById("job-progress");
    var status = document.getElementById("job-status");
    function ask() {
      fetch(card.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) {
          if (!r.ok || !/json/.test(r.headers.get("Content-Type") || "")) { throw new Error(String(r.status)); }
          return r.json();
        })
        .then(function (s) {
          if (s.url) { window.location.assign(s.url); return; }  // finished: its page shows the outcome
          bar.value = s.percent;
          bar.textContent = s.percent + "%";
          status.textContent = s.text;
          window.setTimeout(ask, 1000);
        })
        .catch(function () { window.setTimeout(function () { window.location.reload(); }, 3000); });
    }
    window.setTimeout(ask, 500);
  }

  function init() {
    var job = document.getElementById("job");
    if (job && !job.dataset.ready) { job.dataset.ready = "1"; follow(job); }
    var form = document.getElementById("upload-form");
    if (form && !form.dataset.ready) { form.dataset.ready = "1"; upload(form); }
    var commit = document.getElementById("commit-form");
    if (commit && !commit.dataset.ready) { commit.dataset.ready = "1"; importing(commit); }
  }
  init();
}());
