// Copy buttons for the Wireshark filters. Buttons start hidden (useless without script); where the
// clipboard is unavailable or refused, the filter text is selected instead, so nothing throws.
(function () {
  "use strict";
  function select(code, status) {
    var sel = window.getSelection ? window.getSelection() : null;
    if (sel && document.createRange) {
      var range = document.createRange();
      range.selectNodeContents(code);
      sel.removeAllRanges();
      sel.addRange(range);
      status.textContent = "Selected: press Ctrl+C (\u2318C on a Mac) to copy.";
    } else {
      status.textContent = "Select the filter and copy it.";
    }
  }
  function copy(button) {
    var code = document.getElementById(button.getAttribute("data-target") || "");
    var status = button.nextElementSibling;
    if (!code || !status) {
      return;
    }
    var text = code.textContent || "";
    try {
      if (navigator.clipboard && window.isSecureContext && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () {
          status.textContent = "Copied.";
        }, function () {
          select(code, status);
        });
        return;
      }
    } catch (e) {
      // Fall through to selecting the text.
    }
    select(code, status);
  }
  var buttons = document.querySelectorAll("button.copy");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (ev) {
      copy(ev.currentTarget);
    });
  }
  // Lets the tests exercise the copy path in a headless browser without a user.
  if (window.location.hash === "#selftest-copy" && buttons.length > 0) {
    copy(buttons[0]);
  }
  document.documentElement.setAttribute("data-ready", "1");
})();
