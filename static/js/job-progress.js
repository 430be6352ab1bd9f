// The progress page of a background job, kept up to date while it runs. Without this script the page
// still works: its "Check progress" button reloads it. When the job ends the page is reloaded once, to show
// the outcome and the download.
(function () {
  "use strict";
  var region = document.querySelector("[data-job-progress]");
  if (!region || !window.fetch) { return; }
  var url = region.getAttribute("data-job-progress");
  var bar = region.querySelector("progress");
  var words = region.querySelector("[data-job-words]");
  var state = region.querySelector("[data-job-state]");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        if (job.finished) { window.location.reload(); return; }
        if (state) { state.textContent = job.state + (job.message ? ": " + job.message : ""); }
        if (bar && job.total) { bar.max = job.total; bar.value = job.done; bar.textContent = job.percent + "%"; }
        if (words && job.total) { words.textContent = job.words; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
