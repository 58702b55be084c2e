// Destructive actions: a form with data-confirm asks in a dialog first; without JavaScript the server asks on a page.
(function () {
  "use strict";
  function ask(form) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-question");
    var question = document.createElement("p");
    question.id = "confirm-question";
    question.textContent = form.getAttribute("data-confirm");
    var buttons = document.createElement("p");
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger";
    yes.textContent = form.getAttribute("data-confirm-yes") || "OK";
    var no = document.createElement("button");
    no.type = "button";
    no.className = "secondary";
    no.textContent = form.getAttribute("data-confirm-no") || "Cancel";
    buttons.append(yes, " ", no);
    dialog.append(question, buttons);
    document.body.appendChild(dialog);
    yes.addEventListener("click", function () {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "1";
      form.appendChild(confirmed);
      dialog.close();
      form.submit();
    });
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    dialog.showModal();
    no.focus();
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !form.querySelector("input[name=confirmed]")) {
      event.preventDefault();
      ask(form);
    }
  });
})();
