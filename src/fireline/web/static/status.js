// Adds the reader's local time after each UTC time on the status page. The page reads fine
// without it: every time is already written in UTC.
(function () {
  "use strict";
  const format = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  document.querySelectorAll("time[datetime]").forEach((el) => {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime()) || el.nextElementSibling?.classList.contains("local-time")) return;
    const local = document.createElement("span");
    local.className = "local-time";
    local.textContent = ` (${format.format(when)} your time)`;
    el.after(local);
  });
})();
