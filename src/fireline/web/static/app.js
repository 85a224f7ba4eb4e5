// Fireline's small helpers: local times, live countdowns, the theme switch. Pages work without it.
(function () {
  "use strict";

  const pad = (n) => String(n).padStart(2, "0");

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const when = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(when.getTime())) return;
      const style = el.dataset.style || "datetime";
      const time = `${pad(when.getHours())}:${pad(when.getMinutes())}`;
      const date = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`;
      el.textContent = style === "time" ? time : `${date} ${time}`;
    });
  }

  function describe(ms) {
    const total = Math.round(Math.abs(ms) / 1000);
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const parts = h ? `${h} h ${m} min` : m ? `${m} min ${pad(s)} s` : `${s} s`;
    return ms >= 0 ? `in ${parts}` : `${parts} late`;
  }

  // The server's clock, not the browser's: pages carry it so countdowns agree with deadlines.
  let skew = 0;
  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll(".countdown[data-due]").forEach((el) => {
      const left = new Date(el.dataset.due).getTime() - now;
      el.textContent = describe(left);
      el.classList.toggle("late", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 5 * 60 * 1000);
    });
  }

  function start() {
    const server = document.querySelector("meta[name=server-now]") || document.querySelector("[data-server-now]");
    if (server) {
      const at = new Date(server.getAttribute("content") || server.dataset.serverNow).getTime();
      if (!Number.isNaN(at)) skew = at - Date.now();
    }
    localTimes(document);
    tick();
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSwap", (event) => { localTimes(event.target); tick(); });
    const toggle = document.querySelector("[data-theme-toggle]");
    const saved = localStorage.getItem("fireline-theme");
    if (saved) document.documentElement.dataset.theme = saved;
    if (toggle) {
      toggle.addEventListener("click", () => {
        const dark = document.documentElement.dataset.theme === "dark" ||
          (document.documentElement.dataset.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
        const next = dark ? "light" : "dark";
        document.documentElement.dataset.theme = next;
        localStorage.setItem("fireline-theme", next);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// The incident page's live sections. A section refreshes itself when the incident changes, but
// never under someone's hands: not while they have focus in it, an open disclosure, a form they
// have typed into, or a refusal or preview they are reading. And a form refused with 422 or 409
// comes back as HTML to show in place, so htmx should swap it rather than drop it.
(function () {
  "use strict";

  function edited(field) {
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      // With no option marked selected, a single select starts on its first one.
      const options = Array.from(field.options);
      if (field.multiple) return options.some((o) => o.selected !== o.defaultSelected);
      return field.selectedIndex !== Math.max(0, options.findIndex((o) => o.defaultSelected));
    }
    return field.type !== "hidden" && field.value !== field.defaultValue;
  }

  window.Fireline = window.Fireline || {};
  window.Fireline.idle = function (section) {
    if (section.contains(document.activeElement) && document.activeElement !== document.body) return false;
    if (section.querySelector("details[open], [data-keep]")) return false;
    return !Array.from(section.querySelectorAll("input, textarea, select")).some(edited);
  };

  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    const html = (event.detail.xhr.getResponseHeader("Content-Type") || "").startsWith("text/html");
    if ((status === 422 || status === 409) && html && event.target.closest("[data-inline-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

// Alert pages: Copy buttons beside read-only keys and URLs (without script the input's text is
// there to select), and time-zone choices that start on the viewer's own zone.
(function () {
  "use strict";

  function announce(text) {
    const status = document.getElementById("copy-status");
    if (status) status.textContent = text;
  }

  async function copy(button) {
    const input = document.getElementById(button.dataset.copy);
    if (!input) return;
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (error) {
      input.select();
      document.execCommand("copy");  // insecure origins have no clipboard API
    }
    const label = button.textContent;
    button.textContent = "Copied";
    const what = (button.getAttribute("aria-label") || "").replace(/^Copy /, "");
    announce(what ? `Copied ${what}.` : "Copied.");
    setTimeout(() => { button.textContent = label; }, 2000);
  }

  function localZones(root) {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { return; }
    root.querySelectorAll("select[data-local-zone]").forEach((select) => {
      const known = Array.from(select.options).some((option) => option.value === zone);
      if (known && select.value === "UTC") select.value = zone;
    });
  }

  function start() {
    document.querySelectorAll("button[data-copy]").forEach((button) => { button.hidden = false; });
    document.body.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-copy]");
      if (button) copy(button);
    });
    localZones(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
