/* karmabank's one script of its own (the Content-Security-Policy allows no inline script).
   htmx 2 swaps nothing when an action answers 4xx or 5xx: show the server's one-line message
   in the page's alert region (#flash, role="alert") instead, and clear it on the next action.
   The message is set as text, never as markup. */
(function () {
  "use strict";

  function region() {
    return document.getElementById("flash");
  }

  function message(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = xhr.responseText || "";
    try {
      if (type.indexOf("application/json") === 0) {
        var detail = JSON.parse(body).detail;
        return typeof detail === "string" ? detail : JSON.stringify(detail);
      }
      if (type.indexOf("text/html") === 0) {
        var doc = new DOMParser().parseFromString(body, "text/html");
        var alert = doc.querySelector("[role=alert]");
        if (alert && alert.textContent.trim()) {
          return alert.textContent.trim();
        }
      }
    } catch (e) {
      /* fall through to the status line */
    }
    return "Error " + xhr.status + (xhr.statusText ? " " + xhr.statusText : "");
  }

  function show(text) {
    var el = region();
    if (el) {
      el.textContent = text;
    }
  }

  document.addEventListener("htmx:beforeRequest", function () {
    show("");
  });
  document.addEventListener("htmx:responseError", function (event) {
    show(message(event.detail.xhr));
  });
  document.addEventListener("htmx:sendError", function () {
    show("The server could not be reached: check the connection and try again.");
  });
})();
