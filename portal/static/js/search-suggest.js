/* Suggestions as you type: the WAI-ARIA combobox pattern (list autocomplete, no automatic selection) over
   every input[data-suggest]. Without this script the input is a plain search field of its form. */
(function () {
  "use strict";

  var DELAY_MS = 120;
  var MIN_CHARS = 2;

  function fill(template, n) {
    return template.replace("{n}", String(n));
  }

  function enhance(input, index) {
    var url = input.getAttribute("data-suggest");
    var listId = (input.id || "suggest-" + index) + "-listbox";
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    list.id = listId;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.getAttribute("data-suggest-label") || "");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    var wrapper = document.createElement("div");
    wrapper.className = "suggest";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    function open() {
      if (!items.length) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      setActive(-1);
    }

    function setActive(i) {
      var options = list.children;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "false");
        options[active].classList.remove("active");
      }
      active = i;
      if (i >= 0 && options[i]) {
        options[i].setAttribute("aria-selected", "true");
        options[i].classList.add("active");
        input.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(i) {
      var item = items[i];
      if (!item) { return; }
      input.value = item.name;
      close();
      if (input.form) { input.form.submit(); } else { window.location.assign(item.url); }
    }

    function render(found) {
      items = found;
      list.textContent = "";
      active = -1;
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        var count = document.createElement("span");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.appendChild(document.createTextNode(item.name + " "));
        count.className = "suggest-count";
        count.textContent = fill(input.getAttribute("data-suggest-services") || "{n}", item.services);
        li.appendChild(count);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        list.appendChild(li);
      });
      status.textContent = found.length
        ? fill(input.getAttribute("data-suggest-count") || "{n}", found.length)
        : (input.getAttribute("data-suggest-none") || "");
      if (found.length) { open(); } else { close(); }
    }

    function ask() {
      var q = input.value.trim();
      var ticket = ++asked;
      if (q.length < MIN_CHARS) { render([]); status.textContent = ""; return; }
      fetch(url + "?q=" + encodeURIComponent(q), {headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {items: []}; })
        .then(function (body) { if (ticket === asked) { render(body.items || []); } })
        .catch(function () { if (ticket === asked) { render([]); } });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!expanded) { open(); if (items.length) { setActive(0); } return; }
          setActive(active + 1 < items.length ? active + 1 : 0);
          break;
        case "ArrowUp":
          event.preventDefault();
          if (!expanded) { open(); if (items.length) { setActive(items.length - 1); } return; }
          setActive(active > 0 ? active - 1 : items.length - 1);
          break;
        case "Enter":
          if (expanded && active >= 0) { event.preventDefault(); choose(active); }
          break;
        case "Escape":
          if (expanded) { event.preventDefault(); close(); } else { input.value = ""; }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  function start() {
    var inputs = document.querySelectorAll("input[data-suggest]");
    for (var i = 0; i < inputs.length; i++) { enhance(inputs[i], i); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
